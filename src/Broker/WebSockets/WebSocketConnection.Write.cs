using System.Net.WebSockets;
using Broker.Diagnostics;
using Broker.WebSockets.Internal;

namespace Broker.WebSockets;

public sealed partial class WebSocketConnection
{
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
                // One write sample per wake-up: under load a wake-up drains many batches, so the sampling
                // costs nothing per delivery; when idle, every wake-up is sampled.
                _writer.ArmSample();
                while (await _writer.WriteBatchAsync(includeSubscriptions: Volatile.Read(ref _close) is null))
                {
                    if (Volatile.Read(ref _repliesWritten) is not null && _writer.PendingReplies <= ReaderPauseReplies / 2)
                    {
                        ResumeReader();
                    }
                }

                if (Volatile.Read(ref _repliesWritten) is not null && _writer.PendingReplies <= ReaderPauseReplies / 2)
                {
                    ResumeReader();
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
        catch (OperationCanceledException) when (_writer.TimedOut)
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
            ResumeReader();
            _writer.Dispose();
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
            await _writer.SendAsync(final);
        }

        // If the client does not answer our close frame in time, the reader would wait forever: abort.
        _abortTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!)._socket.Abort(), this, CloseHandshakeTimeout, Timeout.InfiniteTimeSpan);
        await _writer.CloseAsync(close.Code, close.Reason);
    }
}
