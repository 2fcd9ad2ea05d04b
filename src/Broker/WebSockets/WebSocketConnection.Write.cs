using System.Net.WebSockets;
using Broker.Core;
using Broker.Telemetry;

namespace Broker.WebSockets;

public sealed partial class WebSocketConnection
{
    /// <summary>
    /// A coalesced message stops growing past this: 64 KiB amortises the per-send cost over hundreds of
    /// small frames while keeping one message's latency and buffer small.
    /// </summary>
    private const int BatchBytes = 64 * 1024;

    private readonly CancellationTokenSource _writeDeadline = new();
    private int _rotation;

    /// <summary>
    /// The only code that sends on the socket: waits for a signal, writes batches until nothing is
    /// waiting, and on a close request writes the final frame and the close frame, then ends.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            while (await _wake.WaitAsync())
            {
                while (await WriteBatchAsync())
                {
                }

                if (Volatile.Read(ref _close) is { } close)
                {
                    if (!close.Aborted)
                    {
                        await SendCloseAsync(close);
                    }

                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_writeDeadline.IsCancellationRequested)
        {
            // The write timed out: the client does not read. Cancelling the send aborted the socket.
            _dropReason = DropReason.SlowConsumer;
            WebSocketLog.SlowConsumer(_services.Logger, ConnectionId, "a write blocked past the write timeout");
            Abort();
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Abort();
        }
        finally
        {
            _writeDeadline.Dispose();
        }
    }

    /// <summary>Writes one coalesced message; false when nothing was waiting.</summary>
    private async ValueTask<bool> WriteBatchAsync()
    {
        // Read the subscriptions before the replies: a subscription becomes visible here only after its
        // `subscribed` reply was queued, so that reply is always written before the subscription's first
        // publication.
        var subscriptions = _active;
        var batch = default(FrameBatch);
        try
        {
            while (_replies.Reader.TryRead(out var reply))
            {
                if (reply.Counted)
                {
                    Interlocked.Decrement(ref _pendingReplies);
                }

                batch.Append(reply.Bytes);
                if (batch.Length >= BatchBytes)
                {
                    await SendAsync(batch.Memory);
                    return true;
                }
            }

            if (Volatile.Read(ref _close) is null && subscriptions.Length > 0)
            {
                // Start at a different subscription each time so a busy channel cannot starve the others.
                int start = (int)((uint)_rotation++ % (uint)subscriptions.Length);
                for (int i = 0; i < subscriptions.Length && batch.Length < BatchBytes; i++)
                {
                    var subscription = subscriptions[(start + i) % subscriptions.Length];
                    while (batch.Length < BatchBytes && subscription.Queue.TryRead(out var message))
                    {
                        Append(ref batch, subscription, message);
                    }
                }
            }

            if (batch.Length == 0)
            {
                return false;
            }

            await SendAsync(batch.Memory);
            return true;
        }
        finally
        {
            batch.Dispose();
        }
    }

    /// <summary>Adds one queued message, preceded by <c>lagged</c> when publications were dropped right before it.</summary>
    private void Append(ref FrameBatch batch, ConnectionSubscription subscription, ChannelMessage message)
    {
        if (message is Publication publication)
        {
            if (!subscription.Cursor.TryAdvance(publication, out ulong dropped))
            {
                return;
            }

            if (dropped > 0)
            {
                batch.Append(ServerFrames.Lagged(subscription.Channel, dropped, publication.Epoch, publication.Offset - 1));
            }
        }

        batch.Append(message.GetEncoded(JsonFrameFormat.Instance));
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> message)
    {
        // One reusable deadline: armed before each send, disarmed after (TryReset keeps the source
        // reusable, so a send allocates no timer object of its own).
        _writeDeadline.CancelAfter(_options.WriteTimeout);
        await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _writeDeadline.Token);
        if (!_writeDeadline.TryReset())
        {
            throw new OperationCanceledException(_writeDeadline.Token);
        }
    }

    private async ValueTask SendCloseAsync(CloseRequest close)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        if (close.FinalFrame is { } final)
        {
            await SendAsync(final);
        }

        // If the client does not answer our close frame in time, the reader would wait forever: abort.
        _abortTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!)._socket.Abort(), this, CloseHandshakeTimeout, Timeout.InfiniteTimeSpan);
        _writeDeadline.CancelAfter(_options.WriteTimeout);
        await _socket.CloseOutputAsync((WebSocketCloseStatus)close.Code, close.Reason, _writeDeadline.Token);
    }
}
