using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Broker.SdkTests.Infrastructure;

/// <summary>
/// Runs an SDK subscription in the background and records what it yields and reports, so a test can wait for the
/// subscription to be live (its <c>Subscribed</c>) before publishing, then take publications with a timeout.
/// </summary>
public sealed class LiveSubscription : IAsyncDisposable
{
    private readonly Channel<Publication> _publications = Channel.CreateUnbounded<Publication>();
    private readonly ConcurrentQueue<ChannelSubscribed> _subscribed = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private readonly TaskCompletionSource _reconnecting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<ChannelSubscribed> _nextSubscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LiveSubscription(BrokerClient client, string[] channels, IReadOnlyDictionary<string, StreamPosition>? since)
    {
        var options = new SubscribeOptions
        {
            OnSubscribed = s =>
            {
                _subscribed.Enqueue(s);
                Interlocked.Exchange(ref _nextSubscribed, new TaskCompletionSource<ChannelSubscribed>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(s);
            },
            OnReconnecting = (_, _) =>
            {
                Interlocked.Increment(ref _reconnects);
                _reconnecting.TrySetResult();
            },
        };
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var publication in client.SubscribeAsync(channels, since, options, _stop.Token))
                {
                    await _publications.Writer.WriteAsync(publication);
                }

                _publications.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _publications.Writer.TryComplete(ex);
                _nextSubscribed.TrySetException(ex);
            }
        });
    }

    private int _reconnects;

    /// <summary>How many times the subscription reconnected.</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Waits until the subscription has started reconnecting at least once (its stream ended).</summary>
    public Task WaitReconnectingAsync() => _reconnecting.Task.WaitAsync(SdkTestBroker.Timeout);

    /// <summary>Every <c>Subscribed</c> reported so far, in order.</summary>
    public IReadOnlyCollection<ChannelSubscribed> Subscribed => _subscribed;

    /// <summary>Starts a subscription and waits until every entry is live.</summary>
    public static async Task<LiveSubscription> StartAsync(BrokerClient client, string[] channels, IReadOnlyDictionary<string, StreamPosition>? since = null)
    {
        var subscription = new LiveSubscription(client, channels, since);
        try
        {
            await subscription.WaitSubscribedAsync(channels.Length);
        }
        catch
        {
            await subscription.DisposeAsync();
            throw;
        }

        return subscription;
    }

    /// <summary>Waits until <paramref name="count"/> <c>Subscribed</c> have been reported in all.</summary>
    public async Task WaitSubscribedAsync(int count)
    {
        while (_subscribed.Count < count)
        {
            var next = Volatile.Read(ref _nextSubscribed).Task;
            if (_subscribed.Count >= count)
            {
                break;
            }

            await next.WaitAsync(SdkTestBroker.Timeout);
        }
    }

    /// <summary>The next <paramref name="count"/> publications.</summary>
    public async Task<List<Publication>> TakeAsync(int count)
    {
        var list = new List<Publication>(count);
        using var timeout = new CancellationTokenSource(SdkTestBroker.Timeout);
        while (list.Count < count)
        {
            list.Add(await _publications.Reader.ReadAsync(timeout.Token));
        }

        return list;
    }

    /// <summary>The failure that ended the subscription.</summary>
    public async Task<Exception> FailureAsync()
    {
        try
        {
            await _pump.WaitAsync(SdkTestBroker.Timeout);
            await _publications.Reader.Completion.WaitAsync(SdkTestBroker.Timeout);
        }
        catch (Exception ex)
        {
            return ex;
        }

        throw new InvalidOperationException("The subscription ended without a failure.");
    }

    /// <summary>True when a publication is waiting that was not taken.</summary>
    public bool HasMore => _publications.Reader.TryPeek(out _);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _pump.WaitAsync(SdkTestBroker.Timeout);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
