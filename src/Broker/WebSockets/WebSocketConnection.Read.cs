using System.Buffers;
using System.Net.WebSockets;
using Broker.WebSockets.Internal;

namespace Broker.WebSockets;

public sealed partial class WebSocketConnection
{
    /// <summary>A receive buffer's first size: most client messages are one small frame.</summary>
    private const int InitialReceiveBytes = 4096;

    /// <summary>The message of a WebSocketException with no message of its own (see <see cref="CountFrameworkClose"/>).</summary>
    private static readonly string DefaultFaultedMessage = new WebSocketException(WebSocketError.Faulted).Message;

    /// <summary>
    /// Receives messages until the client closes or the socket fails. Each text message is split into
    /// frames at <c>\n</c> and each frame handled in order. After a close is requested, what arrives is
    /// read and ignored until the client's close frame ends the handshake.
    /// </summary>
    /// <remarks>
    /// Between messages the loop waits with a zero-byte receive, which completes when the next frame's
    /// header arrives without consuming its payload: an idle socket holds no receive buffer, and ten
    /// thousand idle sockets do not pin ten thousand pooled arrays.
    /// </remarks>
    private async Task ReadLoopAsync()
    {
        byte[]? buffer = null;
        int length = 0;
        try
        {
            while (true)
            {
                bool idle = buffer is null && _close is null;
                if (!idle)
                {
                    buffer ??= ArrayPool<byte>.Shared.Rent(InitialReceiveBytes);
                    if (length == buffer.Length)
                    {
                        // Grow, but never past what a legal message needs: one byte more proves it too big.
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxMessageBytes + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }

                ValueWebSocketReceiveResult result;
                try
                {
                    result = await _socket.ReceiveAsync(idle ? Memory<byte>.Empty : buffer.AsMemory(length), CancellationToken.None);
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
                {
                    if (exception is WebSocketException framing)
                    {
                        CountFrameworkClose(framing);
                    }

                    Abort();
                    return;
                }

                Volatile.Write(ref _lastReceived, _services.Time.GetTimestamp());
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Echo the client's code (RFC 6455 §5.5.1) unless we already asked to close.
                    int code = _socket.CloseStatus is { } status ? (int)status : WebSocketCloseCodes.Normal;
                    RequestClose(code, "closed by the client");
                    return;
                }

                if (_close is not null)
                {
                    length = 0;  // closing: drain and ignore until the client's close frame
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    Violation(WebSocketCloseCodes.BinaryData, "binary messages are not accepted");
                    length = 0;
                    continue;
                }

                if (idle)
                {
                    // A frame is here: read its payload into a buffer next time round. (An empty message has
                    // none: stay idle.)
                    if (!result.EndOfMessage)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBytes);
                    }

                    continue;
                }

                length += result.Count;
                if (length > _options.MaxMessageBytes)
                {
                    Violation(WebSocketCloseCodes.TooBig, $"a message over {_options.MaxMessageBytes} bytes");
                    length = 0;
                    continue;
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                await HandleMessageAsync(buffer.AsMemory(0, length));
                length = 0;
                ArrayPool<byte>.Shared.Return(buffer!);
                buffer = null;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// The receive failed because the WebSocket layer found a framing error (RFC 6455 "fail the connection") and sent
    /// its own close, which the broker's code never asked for: counted in <c>broker.websocket.closes</c> and logged
    /// like the broker's own closes. ManagedWebSocket says which close it sent only through its state and exception: a
    /// bad close frame leaves it Closed (close received, then its 1002 sent); otherwise it sent a close only for a
    /// Faulted error (a lost connection is ConnectionClosedPrematurely), and of those invalid UTF-8 is the one thrown
    /// with the default message (1007), while every header error names itself (1002).
    /// </summary>
    private void CountFrameworkClose(WebSocketException exception)
    {
        int? code = _socket.State switch
        {
            WebSocketState.Closed => WebSocketCloseCodes.ProtocolError,
            _ when exception.WebSocketErrorCode == WebSocketError.Faulted =>
                exception.InnerException is null && exception.Message == DefaultFaultedMessage ? WebSocketCloseCodes.InvalidPayload : WebSocketCloseCodes.ProtocolError,
            _ => null,
        };
        if (code is { } sent && Interlocked.CompareExchange(ref _close, new CloseRequest(sent, "framing error", null, Aborted: true), null) is null)
        {
            WebSocketLog.Closed(_services.Logger, ConnectionId, sent, exception.Message);
            _services.Metrics.RecordClose(sent);
        }
    }

    /// <summary>Handles every frame of one message, in order.</summary>
    private async ValueTask HandleMessageAsync(ReadOnlyMemory<byte> message)
    {
        int start = 0;
        while (start < message.Length && _close is null)
        {
            int newline = message.Span[start..].IndexOf((byte)'\n');
            int end = newline < 0 ? message.Length : start + newline;
            var frame = message[start..end];
            start = end + 1;
            if (frame.Span.Trim(" \t\r"u8).IsEmpty)
            {
                continue;  // blank lines between frames are harmless
            }

            await WaitForRepliesAsync();
            if (_close is not null)
            {
                return;
            }

            await _session.HandleFrameAsync(frame);
        }
    }
}
