using Grpc.Core;
using Broker.V1;

namespace Broker.Sdk.Internal;

/// <summary>
/// One life of a <c>PublishStream</c> call: the requests written and not yet answered, in order, and the loop that
/// matches each reply to its request by <c>request_id</c>. Written by one writer loop only.
/// </summary>
internal sealed class PublishStreamConnection
{
    private readonly AsyncDuplexStreamingCall<PublishRequest, PublishReply> _call;
    private readonly Action _onReplied;
    private readonly Action<PublishStreamConnection, Exception?> _onBroken;
    private readonly Lock _lock = new();
    private readonly Queue<(ulong Id, PendingPublish Pending)> _inFlight = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _broken;
    private bool _completing;

    public PublishStreamConnection(AsyncDuplexStreamingCall<PublishRequest, PublishReply> call, Action onReplied, Action<PublishStreamConnection, Exception?> onBroken)
    {
        _call = call;
        _onReplied = onReplied;
        _onBroken = onBroken;
    }

    /// <summary>Set once, under the lock, by <see cref="Break"/>; read without it on every send.</summary>
    public bool IsBroken => Volatile.Read(ref _broken);

    /// <summary>Why the last send failed.</summary>
    public Exception? Failure { get; private set; }

    public void StartReading() => _ = Task.Run(ReadLoopAsync);

    /// <summary>
    /// Registers and writes one request. Grpc.Net.Client sends every message as it is written (it ignores
    /// BufferHint); SocketsHttpHandler's HTTP/2 connection coalesces the frames of writes that queue up behind
    /// each other into one socket write. <see cref="SendOutcome.NotSent"/>:
    /// the stream was already broken and the request was not registered, send it on a new stream;
    /// <see cref="SendOutcome.Failed"/>: the write failed (see <see cref="Failure"/>) and the request is among the
    /// stream's orphans.
    /// </summary>
    public ValueTask<SendOutcome> TrySendAsync(PendingPublish pending, ulong requestId)
    {
        // A first send sets the id on the request itself: nobody else has seen it. A retry sends a copy, so a request
        // a broken stream might still be framing is never mutated under it.
        var request = pending.Attempts == 0 ? pending.Request : pending.Request.Clone();
        request.RequestId = requestId;
        lock (_lock)
        {
            if (_broken)
            {
                return new(SendOutcome.NotSent);
            }

            _inFlight.Enqueue((requestId, pending));
        }

        Task write;
        try
        {
            write = _call.RequestStream.WriteAsync(request);
        }
        catch (Exception ex)
        {
            Failure = ex;
            return new(SendOutcome.Failed);
        }

        // A write that completes at once needs no state machine.
        return write.IsCompletedSuccessfully ? new(SendOutcome.Sent) : AwaitWriteAsync(write);
    }

    private async ValueTask<SendOutcome> AwaitWriteAsync(Task write)
    {
        try
        {
            await write.ConfigureAwait(false);
            return SendOutcome.Sent;
        }
        catch (Exception ex)
        {
            Failure = ex;
            return SendOutcome.Failed;
        }
    }

    /// <summary>Half-closes the stream and waits for the replies still due.</summary>
    public async Task CompleteAsync(TimeSpan timeout)
    {
        lock (_lock)
        {
            _completing = true;
            if (_inFlight.Count == 0)
            {
                _drained.TrySetResult();
            }
        }

        await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
        await _drained.Task.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Marks the stream broken, cancels the call and hands back the requests still unanswered.</summary>
    public void Break(Exception error, out List<PendingPublish> orphans)
    {
        orphans = [];
        lock (_lock)
        {
            Volatile.Write(ref _broken, true);
            while (_inFlight.TryDequeue(out var entry))
            {
                if (!entry.Pending.IsDone)
                {
                    orphans.Add(entry.Pending);
                }
            }

            _drained.TrySetResult();
        }

        _call.Dispose();
        if (error is BrokerException { StatusCode: StatusCode.Cancelled })
        {
            foreach (var pending in orphans)
            {
                pending.Fail(error);
            }

            orphans.Clear();
        }
    }

    /// <summary>The outcome of <see cref="TrySendAsync"/>.</summary>
    public enum SendOutcome
    {
        /// <summary>Written.</summary>
        Sent,

        /// <summary>Not registered: the stream was broken already.</summary>
        NotSent,

        /// <summary>Registered, but the write failed.</summary>
        Failed,
    }

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (await _call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                var reply = _call.ResponseStream.Current;
                PendingPublish? pending = null;
                lock (_lock)
                {
                    // Replies come in request order; a reply for an id we no longer hold (dropped after a break) is skipped.
                    while (_inFlight.TryPeek(out var head) && head.Id <= reply.RequestId)
                    {
                        _inFlight.Dequeue();
                        if (head.Id == reply.RequestId)
                        {
                            pending = head.Pending;
                            break;
                        }

                        // An earlier request the broker skipped: it cannot be answered any more.
                        head.Pending.Fail(new BrokerException(StatusCode.Internal, "internal", "The broker answered a later publication first."));
                    }

                    if (_completing && _inFlight.Count == 0)
                    {
                        _drained.TrySetResult();
                    }
                }

                if (pending is null)
                {
                    continue;
                }

                _onReplied();
                if (reply.ErrorCode.Length > 0)
                {
                    pending.Fail(BrokerException.FromReply(reply.ErrorCode, reply.ErrorMessage));
                }
                else
                {
                    pending.Complete(BrokerClient.ToResult(reply));
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        bool pendingLeft;
        lock (_lock)
        {
            pendingLeft = _inFlight.Count > 0 || !_completing;
        }

        if (pendingLeft || failure is not null)
        {
            _onBroken(this, failure);
        }
    }
}
