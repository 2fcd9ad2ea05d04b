using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// A WebSocket client written byte by byte over a plain TCP socket, so that a test can send what no conforming
/// client would: invalid UTF-8 in a text frame, control frames between the fragments of a message, reserved bits
/// and opcodes, unmasked frames, close frames with bad codes, an upgrade request sent slowly. Written by hand
/// because <see cref="System.Net.WebSockets.ClientWebSocket"/> refuses to send most of these (that is the point).
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    /// <summary>RFC 6455 opcodes.</summary>
    public const byte Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly Random _masks;

    private RawWebSocket(TcpClient tcp, Random masks)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _masks = masks;
    }

    /// <summary>Opens a TCP connection to the broker's web endpoint, without the upgrade yet.</summary>
    public static async Task<RawWebSocket> OpenAsync(BrokerServer server, int seed = 0)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.WebAddress.Host, server.WebAddress.Port).WaitAsync(BrokerServer.DefaultTimeout);
        return new RawWebSocket(tcp, new Random(seed));
    }

    /// <summary>Opens a connection and completes the upgrade to <c>/ws</c>.</summary>
    public static async Task<RawWebSocket> ConnectAsync(BrokerServer server, int seed = 0)
    {
        var socket = await OpenAsync(server, seed);
        await socket.WriteRawAsync(socket.UpgradeRequest(server));
        var status = await socket.ReadResponseHeadAsync();
        Assert.StartsWith("HTTP/1.1 101", status, StringComparison.Ordinal);
        return socket;
    }

    /// <summary>The HTTP upgrade request for <c>/ws</c>, as bytes (a test may send it slowly, or in part).</summary>
    public byte[] UpgradeRequest(BrokerServer server)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        return Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: {server.WebAddress.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
    }

    /// <summary>Writes bytes as they are.</summary>
    public async Task WriteRawAsync(ReadOnlyMemory<byte> bytes) =>
        await _stream.WriteAsync(bytes).AsTask().WaitAsync(BrokerServer.DefaultTimeout);

    /// <summary>Reads the HTTP response head; returns its status line.</summary>
    public async Task<string> ReadResponseHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await _stream.ReadAsync(one).AsTask().WaitAsync(BrokerServer.DefaultTimeout) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        var text = head.ToString();
        int end = text.IndexOf("\r\n", StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }

    /// <summary>Sends one frame. Masked unless told otherwise; <paramref name="rsv"/> sets the reserved bits (0-7).</summary>
    public async Task SendFrameAsync(byte opcode, ReadOnlyMemory<byte> payload, bool fin = true, bool masked = true, int rsv = 0)
    {
        var frame = new byte[14 + payload.Length];
        int at = 0;
        frame[at++] = (byte)((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F));
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        if (payload.Length < 126)
        {
            frame[at++] = (byte)(maskBit | payload.Length);
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame[at++] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(at), (ushort)payload.Length);
            at += 2;
        }
        else
        {
            frame[at++] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(at), (ulong)payload.Length);
            at += 8;
        }

        var mask = new byte[4];
        if (masked)
        {
            _masks.NextBytes(mask);
            mask.CopyTo(frame, at);
            at += 4;
        }

        var body = payload.Span;
        for (int i = 0; i < body.Length; i++)
        {
            frame[at + i] = (byte)(body[i] ^ mask[i & 3]);
        }

        await WriteRawAsync(frame.AsMemory(0, at + body.Length));
    }

    /// <summary>Sends a text frame of UTF-8 <paramref name="text"/>.</summary>
    public Task SendTextAsync(string text) => SendFrameAsync(Text, Encoding.UTF8.GetBytes(text));

    /// <summary>Sends a close frame with <paramref name="code"/> (none when null) and a reason.</summary>
    public Task SendCloseAsync(int? code, string reason = "")
    {
        var payload = new byte[code is null ? 0 : 2 + Encoding.UTF8.GetByteCount(reason)];
        if (code is { } c)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)c);
            Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        }

        return SendFrameAsync(Close, payload);
    }

    /// <summary>
    /// The next frame from the server (pings answered on the way, as a client must; unless told otherwise).
    /// Null when the server closed the TCP connection without (more) frames.
    /// </summary>
    public async Task<(byte Opcode, byte[] Payload)?> ReceiveFrameAsync(TimeSpan? timeout = null, bool answerPings = true)
    {
        using var cts = new CancellationTokenSource(timeout ?? BrokerServer.DefaultTimeout);
        while (true)
        {
            var head = new byte[2];
            if (!await ReadExactlyAsync(head, cts.Token))
            {
                return null;
            }

            byte opcode = (byte)(head[0] & 0x0F);
            long length = head[1] & 0x7F;
            if (length == 126)
            {
                var ext = new byte[2];
                await ReadExactlyAsync(ext, cts.Token);
                length = BinaryPrimitives.ReadUInt16BigEndian(ext);
            }
            else if (length == 127)
            {
                var ext = new byte[8];
                await ReadExactlyAsync(ext, cts.Token);
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
            }

            var payload = new byte[length];
            await ReadExactlyAsync(payload, cts.Token);
            if (opcode == Ping && answerPings)
            {
                await SendFrameAsync(Pong, payload);
                continue;
            }

            return (opcode, payload);
        }
    }

    /// <summary>
    /// Reads frames until the server's close frame and returns its code; null when the connection ended without
    /// one. Text frames on the way are collected into <paramref name="texts"/>.
    /// </summary>
    public async Task<int?> ExpectCloseAsync(List<string>? texts = null, TimeSpan? timeout = null)
    {
        while (await ReceiveFrameAsync(timeout) is { } frame)
        {
            if (frame.Opcode == Close)
            {
                return frame.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Payload) : 1005;
            }

            if (frame.Opcode == Text)
            {
                texts?.Add(Encoding.UTF8.GetString(frame.Payload));
            }
        }

        return null;
    }

    /// <summary>Reads text frames until one whose JSON frames include one of <paramref name="type"/>; returns every JSON frame read.</summary>
    public Task<List<string>> ReadUntilAsync(string type) => ReadUntilContainsAsync($"\"type\":\"{type}\"");

    /// <summary>Reads text frames until a JSON frame contains <paramref name="marker"/>; returns every JSON frame read.</summary>
    public async Task<List<string>> ReadUntilContainsAsync(string marker)
    {
        string type = marker;
        var frames = new List<string>();
        while (await ReceiveFrameAsync() is { } frame)
        {
            if (frame.Opcode == Close)
            {
                throw new InvalidOperationException($"closed ({(frame.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Payload) : 1005)}) while waiting for '{type}'; read: {string.Join(" | ", frames)}");
            }

            if (frame.Opcode != Text)
            {
                continue;
            }

            bool found = false;
            foreach (var line in Encoding.UTF8.GetString(frame.Payload).Split('\n'))
            {
                frames.Add(line);
                found |= line.Contains(marker, StringComparison.Ordinal);
            }

            if (found)
            {
                return frames;
            }
        }

        throw new InvalidOperationException($"the connection ended while waiting for '{type}'; read: {string.Join(" | ", frames)}");
    }

    /// <summary>Whether the server has closed the TCP connection (a read returns end of stream) within <paramref name="timeout"/>.</summary>
    public async Task<bool> EndsWithinAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;  // reset by the server
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            }
            catch (IOException)
            {
                return false;
            }

            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
