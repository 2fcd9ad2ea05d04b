using Broker.GrpcTransport;
using Broker.Sdk.Transport;
using Broker.Testing;

namespace Broker.FunctionalTests.Grpc;

/// <summary>The broker's gRPC endpoint at the wire level: the SDK's transport and the shared method descriptors, no SDK conveniences.</summary>
public sealed class GrpcTestClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public GrpcTestClient(BrokerServer server, string? apiKey = null)
    {
        _channel = GrpcChannel.ForAddress(server.GrpcAddress);
        Invoker = _channel.CreateCallInvoker();
        ApiKey = apiKey;
    }

    public CallInvoker Invoker { get; }

    public string? ApiKey { get; }

    /// <summary>Call options with the API key (if any) and a deadline, so no call can hang a test.</summary>
    public CallOptions Options(TimeSpan? deadline = null)
    {
        var headers = new Metadata();
        if (ApiKey is not null)
        {
            headers.Add("authorization", "Bearer " + ApiKey);
        }

        return new CallOptions(headers, DateTime.UtcNow + (deadline ?? BrokerServer.DefaultTimeout));
    }

    public void Dispose() => _channel.Dispose();
}
