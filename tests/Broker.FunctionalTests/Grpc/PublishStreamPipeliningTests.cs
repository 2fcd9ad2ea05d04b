using Broker.Engines;
using Broker.Engines.InMemory;
using Broker.FunctionalTests.Infrastructure;
using Broker.Testing;
using Broker.V1;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Grpc;

/// <summary>
/// <c>PublishStream</c> overlaps the publishes of requests that are already waiting (an engine round trip each
/// with Redis), and still replies, and numbers each channel, in request order.
/// </summary>
public sealed class PublishStreamPipeliningTests
{
    [Fact]
    public async Task WaitingRequestsArePublishedTogetherAndRepliedInOrder()
    {
        // The engine holds every publish until eight are in flight at once: a stream that awaited each publish
        // before reading the next request would never reach eight, and this test would time out.
        var engine = new GatedEngine(gateAt: 8);
        await using var server = await BrokerServer.StartAsync(With(), configure: builder =>
            builder.Services.Replace(ServiceDescriptor.Singleton<IEngine>(_ => engine.Wrap(new InMemoryEngine(TimeProvider.System)))));
        using var client = new GrpcTestClient(server);
        using var call = client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.PublishStream, null, client.Options());
        for (ulong i = 1; i <= 20; i++)
        {
            var channel = i % 2 == 0 ? "room:even" : "room:odd";
            await call.RequestStream.WriteAsync(new PublishRequest { Channel = channel, Data = ByteString.CopyFromUtf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), RequestId = i }).WaitAsync(BrokerServer.DefaultTimeout);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(BrokerServer.DefaultTimeout);
        for (ulong i = 1; i <= 20; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
            var reply = call.ResponseStream.Current;
            Assert.Equal((i, string.Empty), (reply.RequestId, reply.ErrorCode));
            // Each channel numbered in request order: the n-th request of a channel has offset n.
            Assert.Equal((i + 1) / 2, reply.Offset);
        }

        Assert.True(engine.MostInFlight >= 8, $"at most {engine.MostInFlight} publishes were in flight");
    }

    /// <summary>Holds publishes until <c>gateAt</c> are in flight together, then lets every one through.</summary>
    private sealed class GatedEngine(int gateAt) : DelegatingEngine
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inFlight;

        public int MostInFlight { get; private set; }

        public override async ValueTask<PublishResult> PublishAsync(PublishCommand command, CancellationToken cancellationToken)
        {
            // Numbered at once, in call order, as the contract asks; only the answer waits at the gate. The broker's
            // own $broker:stats feed (once a second) passes by.
            var result = base.PublishAsync(command, cancellationToken);
            if (!command.Channel.StartsWith("room:", StringComparison.Ordinal))
            {
                return await result;
            }

            int now = Interlocked.Increment(ref _inFlight);
            MostInFlight = Math.Max(MostInFlight, now);
            if (now >= gateAt)
            {
                _gate.TrySetResult();
            }

            try
            {
                await _gate.Task.WaitAsync(cancellationToken);
                return await result;
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
