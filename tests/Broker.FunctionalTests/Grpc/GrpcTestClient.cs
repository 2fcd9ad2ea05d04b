using Grpc.Core;
using Grpc.Net.Client;
using Broker.Testing;
using Broker.V1;
using Google.Protobuf;

namespace Broker.FunctionalTests.Grpc;

/// <summary>The broker's gRPC endpoint at the wire level: Grpc.Net.Client and the shared method descriptors, no SDK conveniences.</summary>
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

    /// <summary>A unary <c>Publish</c> of <paramref name="json"/> to <paramref name="channel"/>, with <see cref="Options"/>; throws the call's <see cref="RpcException"/>.</summary>
    public Task<PublishReply> PublishAsync(string channel, string json) =>
        Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, Options(), new PublishRequest { Channel = channel, Data = ByteString.CopyFromUtf8(json) }).ResponseAsync.WaitAsync(BrokerServer.DefaultTimeout);

    public void Dispose() => _channel.Dispose();
}
