using System.Threading.Channels;
using Broker.GrpcTransport;
using Broker.Sdk.Internal;
using Broker.Sdk.Transport;
using Broker.V1;

namespace Broker.Sdk;

/// <summary>
/// A pipelined publisher over one <c>PublishStream</c> (from <see cref="BrokerClient.CreatePublisher"/>): each
/// <see cref="PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/> is written at once
/// and its Task completes when the broker's reply to it comes back, so many publications are in flight on one
/// stream. Publications go out in the order <c>PublishAsync</c> was called.
/// </summary>
/// <remarks>
/// <para>Backpressure: at most <see cref="MaxInFlight"/> publications are unanswered; past that <c>PublishAsync</c>
/// waits (asynchronously) for a reply.</para>
/// <para>A bad request (bad channel, non-JSON data, too large) fails only its own Task, with a
/// <see cref="BrokerException"/> carrying the reply's <c>error_code</c>.</para>
/// <para>When the stream breaks, the next publication opens a new one (after a jittered backoff if it keeps
/// failing). Publications in flight on the broken stream may or may not have been published: those with an
/// idempotency key are re-sent (up to <see cref="BrokerClientOptions.PublisherMaxRetries"/> times; the broker
/// publishes a key once), the others fail with a <see cref="BrokerException"/> whose
/// <see cref="BrokerException.IsRetriable"/> is true. Re-sent publications go after those already queued, so order
/// holds within one stream's life, not across a break.</para>
/// </remarks>
public sealed class BrokerPublisher : IAsyncDisposable
{
    private readonly BrokerClient _client;
    private readonly SemaphoreSlim _slots;
    // Unbounded: the slots bound it; a single reader (the writer loop) keeps call order and batches flushes.
    private readonly Channel<PendingPublish> _queue = Channel.CreateUnbounded<PendingPublish>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writer;
    private PublishStreamConnection? _stream;
    private ulong _nextRequestId;
    private int _failures;
    private int _disposed;

    internal BrokerPublisher(BrokerClient client, int maxInFlight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        _client = client;
        MaxInFlight = maxInFlight;
        _slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>How many publications may be unanswered at once.</summary>
    public int MaxInFlight { get; }

    /// <summary>
    /// Queues a publication and returns a Task that completes with its position when the broker answers. Waits while
    /// <see cref="MaxInFlight"/> are unanswered. Cancelling the token cancels the wait and the returned Task, not a
    /// publication already written.
    /// </summary>
    /// <inheritdoc cref="BrokerClient.PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>
    public async Task<PublishResult> PublishAsync(string channel, ReadOnlyMemory<byte> data, string? @event = null, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var request = BrokerClient.CreatePublishRequest(channel, data, @event, idempotencyKey);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var pending = new PendingPublish(request, _slots);
        if (!_queue.Writer.TryWrite(pending))
        {
            pending.Fail(new ObjectDisposedException(nameof(BrokerPublisher)));
        }

        if (!cancellationToken.CanBeCanceled)
        {
            return await pending.Task.ConfigureAwait(false);
        }

        using (cancellationToken.UnsafeRegister(static (state, token) => ((PendingPublish)state!).CancelWait(token), pending))
        {
            return await pending.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Queues <paramref name="value"/> serialized with System.Text.Json.</summary>
    /// <inheritdoc cref="PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>
    public Task<PublishResult> PublishAsync(string channel, object? value, string? @event = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        PublishAsync(channel, _client.SerializeJson(value), @event, idempotencyKey, cancellationToken);

    /// <summary>
    /// Stops taking publications, waits (up to <see cref="BrokerClientOptions.DefaultDeadline"/>) for the replies
    /// still due, and closes the stream. Publications still unanswered then fail as on a broken stream.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
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
            _stopping.Cancel();
            PublishStreamConnection? stream;
            lock (_lock)
            {
                stream = _stream;
                _stream = null;
            }

            stream?.Break(new BrokerException(StatusCode.Cancelled, null, "The publisher was disposed."), out _);
            // Anything that never reached a stream.
            while (_queue.Reader.TryRead(out var left))
            {
                left.Fail(new ObjectDisposedException(nameof(BrokerPublisher)));
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var pending))
            {
                if (pending.IsDone)
                {
                    // Failed or given up before it was written: nothing to send.
                    continue;
                }

                await SendAsync(pending, reader).ConfigureAwait(false);
            }
        }
    }

    private async Task SendAsync(PendingPublish pending, ChannelReader<PendingPublish> reader)
    {
        while (true)
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

            ulong requestId;
            lock (_lock)
            {
                requestId = ++_nextRequestId;
            }

            // Buffer while more are queued and flush with the last: one HTTP/2 flush per batch, not per message.
            var more = reader.TryPeek(out _);
            switch (await stream.TrySendAsync(pending, requestId, buffered: more).ConfigureAwait(false))
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

    private async Task<PublishStreamConnection> GetStreamAsync()
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

        var call = _client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.PublishStream, _client.StreamOptions(_client.DisposedToken));
        var stream = new PublishStreamConnection(call, OnReplied, OnBroken);
        lock (_lock)
        {
            _stream = stream;
        }

        stream.StartReading();
        return stream;
    }

    private void OnReplied()
    {
        lock (_lock)
        {
            _failures = 0;
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
        foreach (var pending in orphans)
        {
            if (retry && pending.Request.IdempotencyKey.Length > 0 && pending.Attempts < _client.Options.PublisherMaxRetries)
            {
                pending.Attempts++;
                if (_queue.Writer.TryWrite(pending))
                {
                    continue;
                }
            }

            pending.Fail(error);
        }
    }
}
