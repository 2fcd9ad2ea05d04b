using System.Diagnostics;
using System.Net.WebSockets;

namespace Broker.LoadTest;

/// <summary>
/// One WebSocket to a server, with one receive loop that treats what arrives as a byte stream and counts markers
/// in it (<see cref="WireProtocol"/>): a delivery is a payload's <c>"lt":</c> timestamp, and its latency is the
/// receive time minus that timestamp. Markers split across two receives are found: the loop carries the unread tail
/// over. One clock read per receive: messages that arrive together get the same receive time.
/// </summary>
internal sealed class WsClient : IAsyncDisposable
{
    /// <summary>The receive buffer of a subscriber: 16 KiB, room for a server's batch of ~70 deliveries per receive.</summary>
    public const int DefaultReceiveBufferSize = 16 * 1024;

    /// <summary>
    /// The receive buffer of an idle socket, which gets only the handshake's reply and keep-alives: 50,000 sockets with
    /// 16 KiB each would hold 800 MB in the load generator for nothing. A longer message arrives in several receives,
    /// which the marker scan reads as one byte stream anyway.
    /// </summary>
    public const int IdleReceiveBufferSize = 1024;

    private static readonly double TicksPerMicrosecond = Stopwatch.Frequency / 1_000_000.0;

    private readonly WireProtocol _protocol;
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly int _maxMarker;
    private readonly int _receiveBufferSize;
    private Task _receiving = Task.CompletedTask;
    private Task _keepingAlive = Task.CompletedTask;
    private readonly CancellationTokenSource _stop = new();
    private long _delivered;
    private long _deliveringReceives;
    private long _receivedBytes;
    private long _acks;
    private long _handshakes;
    private ulong[]? _seen;
    private long _duplicates;

    public WsClient(WireProtocol protocol, int receiveBufferSize = DefaultReceiveBufferSize)
    {
        _protocol = protocol;
        _receiveBufferSize = receiveBufferSize;
        _maxMarker = new[] { Payload.Marker.Length, protocol.HandshakeMarker.Length, protocol.AckMarker.Length, protocol.PingMarker.Length, protocol.ErrorMarker.Length, protocol.DroppedMarker?.Length ?? 0 }.Max();
        if (protocol.SubProtocol is { } sub)
        {
            _socket.Options.AddSubProtocol(sub);
        }

        _socket.Options.KeepAliveInterval = TimeSpan.Zero;  // the protocols' own keep-alives are answered instead
    }

    /// <summary>Deliveries seen (payload timestamps).</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Receives that carried at least one delivery: deliveries over these is how many the server sent per WebSocket message.</summary>
    public long DeliveringReceives => Volatile.Read(ref _deliveringReceives);

    /// <summary>Bytes received in message payloads (WebSocket framing excluded), warm-up included.</summary>
    public long ReceivedBytes => Volatile.Read(ref _receivedBytes);

    /// <summary>Where this subscriber reports what arrived (deliveries and reported drops), for the publisher's bound; null: nowhere.</summary>
    public OutstandingDeliveries? Outstanding { get; set; }

    public long Acks => Volatile.Read(ref _acks);

    public long Handshakes => Volatile.Read(ref _handshakes);

    /// <summary>Publications the server said it dropped (broker <c>lagged</c>).</summary>
    public long Dropped { get; private set; }

    public long Errors { get; private set; }

    /// <summary>The Stopwatch timestamp of the last delivery.</summary>
    public long LastDelivery { get; private set; }

    /// <summary>Latency of each delivery: receive time minus the payload's timestamp. Made at the first delivery.</summary>
    public LatencyHistogram? Latency { get; private set; }

    public bool Closed { get; private set; }

    /// <summary>Called on the receive loop with the number of acks just seen (publisher connections).</summary>
    public Action<int>? OnAcks { get; set; }

    /// <summary>Called on the receive loop with the request id of an error reply, where the protocol names it (<see cref="WireProtocol.ReplyIdMarker"/>).</summary>
    public Action<long>? OnFailedReply { get; set; }

    /// <summary>Deliveries of a sequence number already delivered (with <see cref="TrackSequences"/>).</summary>
    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>
    /// From now on, remembers which of the sequence numbers 0 to <paramref name="publications"/> − 1 arrived (one bit
    /// each), so <see cref="Missing"/> can say exactly which did not. Call before those publications are sent.
    /// </summary>
    public void TrackSequences(long publications) => Volatile.Write(ref _seen, new ulong[(publications + 63) / 64]);

    /// <summary>How many sequence numbers below <paramref name="publications"/> and not in <paramref name="except"/> never arrived.</summary>
    public long Missing(long publications, IReadOnlySet<long> except)
    {
        var seen = Volatile.Read(ref _seen) ?? throw new InvalidOperationException("sequences are not tracked");
        long missing = 0;
        for (long seq = 0; seq < publications; seq++)
        {
            if ((seen[seq >> 6] & (1UL << (int)(seq & 63))) == 0 && !except.Contains(seq))
            {
                missing++;
            }
        }

        return missing;
    }

    /// <summary>Connects, starts the receive loop and sends the handshake (its completion shows in <see cref="Handshakes"/>).</summary>
    public async Task ConnectAsync(Uri server, HttpMessageInvoker invoker, CancellationToken cancellationToken)
    {
        await _socket.ConnectAsync(new Uri(server, _protocol.Path), invoker, cancellationToken);
        _receiving = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        await SendAsync(_protocol.Handshake, cancellationToken);
        if (_protocol.ClientKeepAlive is { } keepAlive)
        {
            _keepingAlive = KeepAliveAsync(keepAlive);
        }
    }

    public async Task SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception)
        {
            // closing is best effort: the server may already be gone
        }

        await _stop.CancelAsync();
        _socket.Abort();
        await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _keepingAlive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _sendLock.Dispose();
        _stop.Dispose();
    }

    /// <summary>Sends the protocol's own keep-alive every 10 s (SignalR's client: 15 s, well inside the server's 30 s) until disposed.</summary>
    private async Task KeepAliveAsync(byte[] keepAlive)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await SendAsync(keepAlive, _stop.Token);
            }
        }
        catch (Exception)
        {
            // stopped, or the socket is gone: the run counts what arrived
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[_receiveBufferSize];
        int carry = 0;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(carry), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                Volatile.Write(ref _receivedBytes, _receivedBytes + result.Count);  // this loop is the only writer
                int length = carry + result.Count;
                int keep = Scan(buffer.AsSpan(0, length), out bool ping);
                carry = length - keep;
                buffer.AsSpan(keep, carry).CopyTo(buffer);
                if (ping)
                {
                    await SendAsync(_protocol.PingReply, CancellationToken.None);
                }
            }
        }
        catch (Exception)
        {
            // the socket was closed or aborted: the run counts what arrived
        }
        finally
        {
            Closed = true;
        }
    }

    /// <summary>Counts the markers in <paramref name="data"/>; returns where the unread tail (carried over) starts.</summary>
    private int Scan(ReadOnlySpan<byte> data, out bool ping)
    {
        long now = Stopwatch.GetTimestamp();
        int consumed = 0;
        int pending = data.Length;
        int delivered = 0;
        int at = 0;
        while (true)
        {
            int found = data[at..].IndexOf(Payload.Marker);
            if (found < 0)
            {
                break;
            }

            int start = at + found;
            int end = ReadNumber(data, start + Payload.Marker.Length, out long timestamp);
            if (end == data.Length)
            {
                pending = start;  // the number may go on in the next receive
                break;
            }

            if (_seen is { } seen)
            {
                // The sequence number follows the timestamp: read it whole, or wait for the next receive.
                if (data.Length - end <= Payload.SequenceMarker.Length)
                {
                    pending = start;
                    break;
                }

                if (data[end..].StartsWith(Payload.SequenceMarker))
                {
                    int seqEnd = ReadNumber(data, end + Payload.SequenceMarker.Length, out long seq);
                    if (seqEnd == data.Length)
                    {
                        pending = start;
                        break;
                    }

                    Mark(seen, seq);
                    end = seqEnd;
                }
            }

            Latency ??= new LatencyHistogram();
            Latency.Record((long)((now - timestamp) / TicksPerMicrosecond));
            delivered++;
            consumed = at = end;
        }

        if (delivered > 0)
        {
            LastDelivery = now;
            Interlocked.Add(ref _delivered, delivered);
            Interlocked.Increment(ref _deliveringReceives);
        }

        long droppedBefore = Dropped;

        var region = data[..pending];
        if (_protocol.DroppedMarker is { } droppedMarker)
        {
            at = 0;
            while (true)
            {
                int found = region[at..].IndexOf(droppedMarker);
                if (found < 0)
                {
                    break;
                }

                int start = at + found;
                int end = ReadNumber(region, start + droppedMarker.Length, out long dropped);
                if (end == region.Length)
                {
                    pending = start;
                    region = data[..pending];
                    break;
                }

                Dropped += dropped;
                consumed = Math.Max(consumed, end);
                at = end;
            }
        }

        if (Outstanding is { } outstanding && delivered + (Dropped - droppedBefore) > 0)
        {
            outstanding.Add(delivered + (Dropped - droppedBefore));
        }

        ping = Count(region, _protocol.PingMarker, ref consumed) > 0;
        Errors += CountErrors(region, ref consumed);
        int handshakes = Count(region, _protocol.HandshakeMarker, ref consumed);
        if (handshakes > 0)
        {
            Interlocked.Add(ref _handshakes, handshakes);
        }

        int acks = Count(region, _protocol.AckMarker, ref consumed);
        if (acks > 0)
        {
            Interlocked.Add(ref _acks, acks);
            OnAcks?.Invoke(acks);
        }

        // Keep what may hold the start of a marker: never a whole one, which was counted above.
        return Math.Min(pending, Math.Max(consumed, data.Length - (_maxMarker - 1)));
    }

    private void Mark(ulong[] seen, long seq)
    {
        if ((ulong)seq >= (ulong)seen.Length * 64)
        {
            return;  // not one of the tracked publications
        }

        ref ulong word = ref seen[seq >> 6];
        ulong bit = 1UL << (int)(seq & 63);
        if ((word & bit) != 0)
        {
            Interlocked.Increment(ref _duplicates);
        }

        word |= bit;
    }

    /// <summary>Counts error replies; hands the id of each (when the protocol names it) to <see cref="OnFailedReply"/>.</summary>
    private int CountErrors(ReadOnlySpan<byte> data, ref int consumed)
    {
        var idMarker = _protocol.ReplyIdMarker;
        if (idMarker is null || OnFailedReply is not { } failed)
        {
            return Count(data, _protocol.ErrorMarker, ref consumed);
        }

        int count = 0;
        int at = 0;
        while (true)
        {
            int found = data[at..].IndexOf(_protocol.ErrorMarker);
            if (found < 0)
            {
                return count;
            }

            // The reply's id comes before its error; one that began in an earlier receive goes unnamed (still counted).
            int id = data[at..(at + found)].LastIndexOf(idMarker);
            if (id >= 0)
            {
                ReadNumber(data, at + id + idMarker.Length, out long value);
                failed(value);
            }

            count++;
            at += found + _protocol.ErrorMarker.Length;
            consumed = Math.Max(consumed, at);
        }
    }

    private static int Count(ReadOnlySpan<byte> data, ReadOnlySpan<byte> marker, ref int consumed)
    {
        int count = 0;
        int at = 0;
        while (true)
        {
            int found = data[at..].IndexOf(marker);
            if (found < 0)
            {
                return count;
            }

            count++;
            at += found + marker.Length;
            consumed = Math.Max(consumed, at);
        }
    }

    private static int ReadNumber(ReadOnlySpan<byte> data, int at, out long value)
    {
        value = 0;
        while (at < data.Length && (uint)(data[at] - '0') <= 9)
        {
            value = (value * 10) + (data[at] - '0');
            at++;
        }

        return at;
    }
}
