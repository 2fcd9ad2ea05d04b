using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Core;
using Broker.Engines;
using Grpc.Core;
using Grpc.Net.Client;
using Broker.V1;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Benchmarks;

/// <summary>
/// The backend transport end to end on loopback: the real broker (Grpc.AspNetCore on Kestrel HTTP/2) and the
/// SDK's gRPC channel (Grpc.Net.Client on the SDK's SocketsHttpHandler settings). Per operation, 1,000 publications pipelined through one <c>PublishStream</c> (replies read
/// back), or 1,000 publications fanned out to one <c>Subscribe</c> stream and read by the client.
/// Results are per publication / per delivery (OperationsPerInvoke); allocations include both ends.
/// </summary>
[MemoryDiagnoser]
public class GrpcThroughputBenchmarks
{
    private const int Batch = 1000;

    private LoopbackBroker _broker = null!;
    private GrpcChannel _channel = null!;
    private AsyncDuplexStreamingCall<PublishRequest, PublishReply> _publishStream = null!;
    private AsyncServerStreamingCall<Delivery> _subscribeStream = null!;
    private PublishRequest[] _requests = null!;
    private Hub _hub = null!;
    private PublishCommand _command;

    [GlobalSetup]
    public async Task Setup()
    {
        _broker = await LoopbackBroker.StartAsync(new Dictionary<string, string?>
        {
            ["Broker:Namespaces:bench:HistorySize"] = "0",
            ["Broker:Namespaces:feed:HistorySize"] = "0",
        });
        _hub = _broker.Services.GetRequiredService<Hub>();
        _channel = Broker.Sdk.BrokerClient.CreateChannel(new Broker.Sdk.BrokerClientOptions { Address = _broker.GrpcAddress }, NullLoggerFactory.Instance);
        var invoker = _channel.CreateCallInvoker();
        _publishStream = invoker.AsyncDuplexStreamingCall(BrokerMethods.PublishStream, null, default);
        var data = ByteString.CopyFromUtf8("{\"text\":\"" + new string('x', 88) + "\"}");  // a 100-byte payload
        _requests = [.. Enumerable.Range(0, Batch).Select(i => new PublishRequest { Channel = "bench:room", Data = data, RequestId = (ulong)i })];

        _subscribeStream = invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, default, new SubscribeRequest { Channels = { "feed:room" }, Buffer = 65536 });
        await _subscribeStream.ResponseStream.MoveNext(CancellationToken.None);  // Subscribed: the stream is live
        _command = new PublishCommand("feed:room", "message", Encoding.UTF8.GetBytes(data.ToStringUtf8()));
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _publishStream.Dispose();
        _subscribeStream.Dispose();
        _channel.Dispose();
        await _broker.DisposeAsync();
    }

    /// <summary>
    /// Publications through one PublishStream: all written, then all replies read. Grpc.Net.Client sends each write
    /// as it comes (it ignores BufferHint); the HTTP/2 connection coalesces what queues up.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task PublishStream()
    {
        var requests = _publishStream.RequestStream;
        for (int i = 0; i < Batch; i++)
        {
            await requests.WriteAsync(_requests[i]);
        }

        for (int i = 0; i < Batch; i++)
        {
            await _publishStream.ResponseStream.MoveNext(CancellationToken.None);
        }
    }

    /// <summary>Deliveries into one Subscribe stream: published in-process, read by the gRPC client.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task SubscribeDeliveries()
    {
        for (int i = 0; i < Batch; i++)
        {
            await _hub.PublishAsync(_command, CancellationToken.None);
        }

        for (int i = 0; i < Batch; i++)
        {
            await _subscribeStream.ResponseStream.MoveNext(CancellationToken.None);
        }
    }
}
