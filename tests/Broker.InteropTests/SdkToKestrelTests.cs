namespace Broker.InteropTests;

/// <summary>The SDK's channel calling Grpc.AspNetCore set up as the broker sets it up: the pair the broker and its backends use.</summary>
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
