namespace Broker.InteropTests;

/// <summary>Our SDK client transport calling a real gRPC server (python grpcio) over h2c.</summary>
public sealed class SdkToPythonServerTests : SdkClientTests, IClassFixture<PythonEchoServer>
{
    private readonly PythonEchoServer _server;

    public SdkToPythonServerTests(PythonEchoServer server)
    {
        _server = server;
    }

    protected override Uri Address => _server.Address;

    protected override Task ServerSawCancellation(string callId) => _server.Cancelled(callId);
}
