namespace Broker.InteropTests;

/// <summary>Our SDK client transport calling our server transport: the pair the broker and its backends use.</summary>
public sealed class SdkToKestrelTests : SdkClientTests, IClassFixture<KestrelEchoServer>
{
    private readonly KestrelEchoServer _server;

    public SdkToKestrelTests(KestrelEchoServer server)
    {
        _server = server;
    }

    protected override Uri Address => _server.Address;

    protected override Task ServerSawCancellation(string callId) => _server.Echo.Cancelled(callId);
}
