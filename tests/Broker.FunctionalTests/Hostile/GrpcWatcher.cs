using System.Text;
using Broker.Engines;
using Broker.V1;
using Grpc.Core;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// The well-behaved backend of the gRPC hostile suite: one <c>Subscribe</c> stream reading everything, beside a
/// publisher that publishes one numbered publication per hostile input. At the end it must have received every
/// publication, in order, with no <c>Lagged</c>.
/// </summary>
public sealed class GrpcWatcher : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    private readonly AsyncServerStreamingCall<Delivery> _call;
    private readonly Broker.Core.Hub _hub;
    private readonly string _channel;
    private readonly List<ulong> _received = [];
    private readonly List<ulong> _published = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _target = ulong.MaxValue;
    private Task _loop = Task.CompletedTask;

    private GrpcWatcher(AsyncServerStreamingCall<Delivery> call, Broker.Core.Hub hub, string channel)
    {
        _call = call;
        _hub = hub;
        _channel = channel;
    }

    public int Lagged { get; private set; }

    /// <summary>Subscribes to <paramref name="channel"/> over <paramref name="invoker"/> and waits until it is live.</summary>
    public static async Task<GrpcWatcher> StartAsync(BrokerServer server, CallInvoker invoker, string channel = "room:watched")
    {
        var call = invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, new CallOptions(deadline: DateTime.UtcNow + TimeSpan.FromMinutes(5)), new SubscribeRequest { Channels = { channel } });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(Delivery.KindOneofCase.Subscribed, call.ResponseStream.Current.KindCase);
        var watcher = new GrpcWatcher(call, server.Services.GetRequiredService<Broker.Core.Hub>(), channel);
        watcher._loop = Task.Run(watcher.ReadAsync);
        return watcher;
    }

    /// <summary>Publishes the next numbered publication to the watched channel (as a backend would, through the hub).</summary>
    public async Task PublishAsync()
    {
        int n;
        lock (_gate)
        {
            n = _published.Count;
        }

        var result = await _hub.PublishAsync(new PublishCommand(_channel, "message", Encoding.UTF8.GetBytes($"{{\"n\":{n}}}")), default).AsTask().WaitAsync(Timeout);
        lock (_gate)
        {
            _published.Add(result.Position.Offset);
        }
    }

    /// <summary>Waits until the last publication arrived, then asserts that every one came once, in order, and no Lagged.</summary>
    public async Task AssertReceivedEverythingAsync(string context)
    {
        ulong last;
        lock (_gate)
        {
            Assert.NotEmpty(_published);
            last = _published.Max();
            _target = last;
            if (_received.Count > 0 && _received[^1] >= last)
            {
                _reached.TrySetResult();
            }
        }

        var done = await Task.WhenAny(_reached.Task, _loop).WaitAsync(Timeout);
        await done;  // the read loop's failure, if it ended first
        lock (_gate)
        {
            Assert.True(_reached.Task.IsCompleted, $"{context}: the watcher's stream ended after {_received.Count} of {_published.Count} publications");
            Assert.True(Lagged == 0, $"{context}: the watcher was told Lagged {Lagged} times");
            for (int i = 1; i < _received.Count; i++)
            {
                Assert.True(_received[i] == _received[i - 1] + 1, $"{context}: offsets {_received[i - 1]} then {_received[i]}");
            }

            Assert.Empty(_published.Except(_received));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(CancellationToken.None))
            {
                var delivery = _call.ResponseStream.Current;
                lock (_gate)
                {
                    if (delivery.KindCase == Delivery.KindOneofCase.Lagged)
                    {
                        Lagged++;
                    }
                    else if (delivery.KindCase == Delivery.KindOneofCase.Publication)
                    {
                        _received.Add(delivery.Publication.Offset);
                        if (delivery.Publication.Offset >= _target)
                        {
                            _reached.TrySetResult();
                        }
                    }
                }
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled)
        {
            // Disposed by the test.
        }
    }
}
