using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Broker.Sdk.Internal;
using Broker.V1;

namespace Broker.Sdk;

/// <summary>
/// A pipelined publisher over one <c>PublishStream</c> (from <see cref="BrokerClient.CreatePublisher"/>): each
/// <see cref="PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/> is queued, written
/// by one writer loop, and its Task completes when the broker's reply to it comes back (matched by
/// <c>request_id</c>), so many publications are in flight on one stream. Publications go out in the order
/// <c>PublishAsync</c> was called.
/// </summary>
/// <remarks>
/// <para>Backpressure: at most <see cref="MaxInFlight"/> publications are sent and unanswered, and at most as many
/// wait behind them; past that <c>PublishAsync</c> waits (asynchronously, in call order) until replies free room.</para>
/// <para>A bad request (bad channel, non-JSON data, too large) fails only its own Task, with a
/// <see cref="BrokerException"/> carrying the reply's <c>error_code</c>.</para>
/// <para>When the stream breaks, the next publication opens a new one (after a jittered backoff while it keeps
/// failing). Publications in flight on the broken stream may or may not have been published: those with an
/// idempotency key are re-sent first on the new stream (up to <see cref="BrokerClientOptions.PublisherMaxRetries"/>
/// times; the broker publishes a key once), the others fail with a <see cref="BrokerException"/> whose
/// <see cref="BrokerException.IsRetriable"/> is true. Order holds within one stream's life, not across a break.</para>
/// </remarks>
public sealed class BrokerPublisher : IAsyncDisposable
{
    private readonly BrokerClient _client;
    // Bounded, FullMode.Wait: a full channel queues writers and admits them in call order (the channel moves a
    // blocked writer's item in when a reader takes one), which a semaphore wait would not guarantee.
    private readonly Channel<PendingPublish> _queue;
    private readonly ConcurrentQueue<PendingPublish> _retries = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writer;
    private readonly int _wakeBelow;
    // Made once: a method group passed per publication would allocate a delegate each time.
    private readonly Action _releaseSlot;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PublishStreamConnection? _stream;
    // Only the writer loop sends, so only it touches this: no lock.
    private ulong _nextRequestId;
    private int _unanswered;
    // 1 while the writer waits for free slots: replies wake it only then (see ReleaseSlot), not once per reply.
    private int _waitingForSlot;
    private int _failures;
    private int _disposed;

    internal BrokerPublisher(BrokerClient client, int maxInFlight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        _client = client;
        MaxInFlight = maxInFlight;
        _queue = Channel.CreateBounded<PendingPublish>(new BoundedChannelOptions(maxInFlight)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        // Wake the writer once a quarter of the window is free again: it then sends those publications in one batch
        // (one flush), where a wake-up per reply would send them one flush each.
        _wakeBelow = maxInFlight - Math.Max(1, maxInFlight / 4);
        _releaseSlot = ReleaseSlot;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>How many publications may be sent and unanswered at once.</summary>
    public int MaxInFlight { get; }

    /// <summary>
    /// Queues a publication and returns a Task that completes with its position when the broker answers. Waits while
    /// the publisher is full. Cancelling the token cancels the wait and the returned Task, not a publication already
    /// written.
    /// </summary>
    /// <inheritdoc cref="BrokerClient.PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>
    public Task<PublishResult> PublishAsync(string channel, ReadOnlyMemory<byte> data, string? @event = null, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new PendingPublish(BrokerClient.CreatePublishRequest(channel, data, @event, idempotencyKey), _releaseSlot);
        if (!cancellationToken.CanBeCanceled && _queue.Writer.TryWrite(pending))
        {
            // The common case, no allocation beyond the pending itself: the caller awaits the reply directly.
            return pending.Task;
        }

        return EnqueueAndWaitAsync(pending, cancellationToken);
    }

    /// <summary>Queues <paramref name="value"/> serialized with System.Text.Json.</summary>
    /// <inheritdoc cref="PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>
    public Task<PublishResult> PublishAsync(string channel, object? value, string? @event = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        PublishAsync(channel, _client.SerializeJson(value), @event, idempotencyKey, cancellationToken);

    /// <summary>
    /// Stops taking publications, sends what is queued, waits (up to <see cref="BrokerClientOptions.DefaultDeadline"/>)
    /// for the replies still due, and closes the stream. Publications still unanswered then fail.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        Wake();
        try
        {
            await _writer.WaitAsync(_client.Options.DefaultDeadline).ConfigureAwait(false);
            PublishStreamConnection? stream;
            lock (_lock)
            {
                stream = _stream;
            }

            if (stream is not null)
            {
                await stream.CompleteAsync(_client.Options.DefaultDeadline).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            PublishStreamConnection? stream;
            lock (_lock)
            {
                stream = _stream;
                _stream = null;
            }

            var disposed = new BrokerException(StatusCode.Cancelled, null, "The publisher was disposed.");
            stream?.Break(disposed, out _);
            while (_queue.Reader.TryRead(out var left))
            {
                left.Fail(new ObjectDisposedException(nameof(BrokerPublisher)));
            }

            while (_retries.TryDequeue(out var left))
            {
                left.Fail(disposed);
            }
        }
    }

    private async Task<PublishResult> EnqueueAndWaitAsync(PendingPublish pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(BrokerPublisher));
        }

        using (cancellationToken.UnsafeRegister(static (state, token) => ((PendingPublish)state!).CancelWait(token), pending))
        {
            return await pending.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The only writer: re-sends retries first, then takes queued publications while fewer than
    /// <see cref="MaxInFlight"/> are unanswered. Sleeps on <see cref="_wake"/> (a reply, a retry, dispose) or the queue.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        // One outstanding wait for the queue, kept across wake-ups: a new wait per wake-up would pile up waiters.
        Task<bool>? readable = null;
        while (true)
        {
            // Taken before looking, so a wake-up between the checks and the wait is not lost. No lock: Wake swaps the
            // source and then completes the old one, so whichever one is read here is completed by that wake-up or a later.
            var wake = Volatile.Read(ref _wake).Task;

            if (_retries.TryDequeue(out var retry))
            {
                await SendAsync(retry).ConfigureAwait(false);
                continue;
            }

            if (Volatile.Read(ref _unanswered) >= MaxInFlight)
            {
                // Announce the wait, then look again: a reply that freed room before the announcement is seen here, one
                // after it sees the flag (both sides are full fences).
                Interlocked.Exchange(ref _waitingForSlot, 1);
                if (Volatile.Read(ref _unanswered) >= MaxInFlight)
                {
                    await wake.ConfigureAwait(false);
                }

                continue;
            }

            if (reader.TryRead(out var pending))
            {
                if (pending.IsDone)
                {
                    continue;
                }

                pending.TakeSlot();
                Interlocked.Increment(ref _unanswered);
                // Each publication is written as soon as it is taken, the next while its bytes are on the way: the
                // HTTP/2 connection coalesces writes that queue up into one send, so a burst leaves in few packets.
                await SendAsync(pending).ConfigureAwait(false);
                continue;
            }

            readable ??= reader.WaitToReadAsync().AsTask();
            if (readable.IsCompleted)
            {
                var more = await readable.ConfigureAwait(false);
                readable = null;
                if (!more)
                {
                    return;
                }

                continue;
            }

            await Task.WhenAny(readable, wake).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(PendingPublish pending)
    {
        while (!pending.IsDone)
        {
            PublishStreamConnection stream;
            try
            {
                stream = await GetStreamAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                pending.Fail(new ObjectDisposedException(nameof(BrokerPublisher)));
                return;
            }

            var requestId = ++_nextRequestId;
            switch (await stream.TrySendAsync(pending, requestId).ConfigureAwait(false))
            {
                case PublishStreamConnection.SendOutcome.Sent:
                    return;
                case PublishStreamConnection.SendOutcome.Failed:
                    // The request is among the orphans: retried or failed there.
                    OnBroken(stream, stream.Failure);
                    return;
                default:
                    // Never written: safe to send on the next stream, idempotency key or not.
                    OnBroken(stream, null);
                    continue;
            }
        }
    }

    private ValueTask<PublishStreamConnection> GetStreamAsync()
    {
        // The usual case, once per send: the live stream, without a lock or a state machine.
        var current = Volatile.Read(ref _stream);
        return current is { IsBroken: false } ? new(current) : OpenStreamAsync();
    }

    private async ValueTask<PublishStreamConnection> OpenStreamAsync()
    {
        int failures;
        lock (_lock)
        {
            if (_stream is { IsBroken: false } live)
            {
                return live;
            }

            failures = _failures;
        }

        if (failures > 0)
        {
            var options = _client.Options;
            await Task.Delay(Backoff.Delay(failures - 1, options.ReconnectMinBackoff, options.ReconnectMaxBackoff), _stopping.Token).ConfigureAwait(false);
        }

        var call = _client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.PublishStream, null, _client.StreamOptions(_client.DisposedToken));
        var stream = new PublishStreamConnection(call, OnReplied, OnBroken);
        lock (_lock)
        {
            _stream = stream;
        }

        stream.StartReading();
        return stream;
    }

    private void ReleaseSlot()
    {
        var unanswered = Interlocked.Decrement(ref _unanswered);
        if (unanswered <= _wakeBelow && Volatile.Read(ref _waitingForSlot) != 0 && Interlocked.Exchange(ref _waitingForSlot, 0) != 0)
        {
            Wake();
        }
    }

    private void Wake()
    {
        TaskCompletionSource woken;
        lock (_lock)
        {
            woken = _wake;
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        woken.TrySetResult();
    }

    private void OnReplied()
    {
        // Called per reply: the lock only when there is something to reset.
        if (Volatile.Read(ref _failures) != 0)
        {
            lock (_lock)
            {
                _failures = 0;
            }
        }
    }

    private void OnBroken(PublishStreamConnection stream, Exception? failure)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_stream, stream))
            {
                _stream = null;
                _failures++;
            }
        }

        var error = failure switch
        {
            BrokerException broker => broker,
            RpcException rpc => BrokerException.FromRpc(rpc),
            null => new BrokerException(StatusCode.Unavailable, "unavailable", "The publish stream ended."),
            _ => new BrokerException(StatusCode.Unavailable, "unavailable", "The publish stream broke: " + failure.Message, failure),
        };
        stream.Break(error, out var orphans);
        var retry = error.IsRetriable && Volatile.Read(ref _disposed) == 0;
        var woke = false;
        var retried = 0;
        foreach (var pending in orphans)
        {
            if (retry && pending.Request.IdempotencyKey.Length > 0 && pending.Attempts < _client.Options.PublisherMaxRetries)
            {
                pending.Attempts++;
                _retries.Enqueue(pending);
                woke = true;
                retried++;
                continue;
            }

            pending.Fail(error);
        }

        if (Volatile.Read(ref _disposed) == 0)
        {
            BrokerClientLog.PublishStreamBroken(_client.Logger, orphans.Count, retried, failure);
        }

        if (woke)
        {
            Wake();
        }
    }
}
