using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// An HTTP/2 cleartext client at the frame level (RFC 9113), for what no well-behaved client library sends: streams
/// opened and reset at once, in one burst (the rapid-reset pattern, CVE-2023-44487). Headers are HPACK literals
/// without indexing or Huffman coding (RFC 7541 §6.2.2), which every decoder must accept. It answers the server's
/// SETTINGS and PING, and records what the server says back: RST_STREAM codes, GOAWAY, the end of the connection.
/// </summary>
public sealed class RawHttp2Connection : IAsyncDisposable
{
    public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7;
    public const byte EndStream = 0x1, EndHeaders = 0x4, Ack = 0x1;

    /// <summary>HTTP/2 error codes used here (RFC 9113 §7).</summary>
    public const uint Cancel = 0x8, EnhanceYourCalm = 0xB;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _authority;
    private Task _reader = Task.CompletedTask;

    private RawHttp2Connection(TcpClient tcp, string authority)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _authority = authority;
    }

    /// <summary>RST_STREAM frames the server sent, by error code.</summary>
    public ConcurrentDictionary<uint, int> Resets { get; } = new();

    /// <summary>The GOAWAY the server sent (its error code), if any.</summary>
    public uint? GoAwayCode { get; private set; }

    /// <summary>Completes when the server closed the connection.</summary>
    public Task Closed => _closed.Task;

    public static async Task<RawHttp2Connection> ConnectAsync(Uri address)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port).WaitAsync(BrokerServer.DefaultTimeout);
        var connection = new RawHttp2Connection(tcp, $"{address.Host}:{address.Port}");
        var preface = new MemoryStream();
        preface.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
        WriteFrame(preface, Settings, 0, 0, []);
        await connection.WriteAsync(preface.ToArray());
        connection._reader = Task.Run(connection.ReadAsync);
        return connection;
    }

    /// <summary>Appends a request's HEADERS frame (POST <paramref name="path"/>, gRPC's headers) to <paramref name="burst"/>.</summary>
    public void AppendRequestHeaders(MemoryStream burst, int streamId, string path)
    {
        var block = new MemoryStream();
        Literal(block, ":method", "POST");
        Literal(block, ":scheme", "http");
        Literal(block, ":path", path);
        Literal(block, ":authority", _authority);
        Literal(block, "content-type", "application/grpc");
        Literal(block, "te", "trailers");
        WriteFrame(burst, Headers, EndHeaders, streamId, block.ToArray());
    }

    /// <summary>Appends a DATA frame carrying one gRPC message (uncompressed, length-prefixed).</summary>
    public static void AppendGrpcMessage(MemoryStream burst, int streamId, byte[] message, bool endStream)
    {
        var payload = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(1), (uint)message.Length);
        message.CopyTo(payload, 5);
        WriteFrame(burst, Data, endStream ? EndStream : (byte)0, streamId, payload);
    }

    /// <summary>Appends an RST_STREAM frame.</summary>
    public static void AppendReset(MemoryStream burst, int streamId, uint code)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, code);
        WriteFrame(burst, RstStream, 0, streamId, payload);
    }

    /// <summary>Writes bytes as they are; false when the server has closed the connection already.</summary>
    public async Task<bool> WriteAsync(byte[] bytes)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static void WriteFrame(Stream to, byte type, byte flags, int streamId, byte[] payload)
    {
        Span<byte> header = stackalloc byte[9];
        header[0] = (byte)(payload.Length >> 16);
        header[1] = (byte)(payload.Length >> 8);
        header[2] = (byte)payload.Length;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(header[5..], streamId);
        to.Write(header);
        to.Write(payload);
    }

    private static void Literal(MemoryStream block, string name, string value)
    {
        block.WriteByte(0);  // literal without indexing, new name
        String(block, name);
        String(block, value);
    }

    private static void String(MemoryStream block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        // A length with a 7-bit prefix and H = 0 (RFC 7541 §5.1).
        int length = bytes.Length;
        if (length < 127)
        {
            block.WriteByte((byte)length);
        }
        else
        {
            block.WriteByte(127);
            length -= 127;
            while (length >= 128)
            {
                block.WriteByte((byte)((length & 0x7F) | 0x80));
                length >>= 7;
            }

            block.WriteByte((byte)length);
        }

        block.Write(bytes);
    }

    private async Task ReadAsync()
    {
        var header = new byte[9];
        try
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(header);
                int length = (header[0] << 16) | (header[1] << 8) | header[2];
                byte type = header[3];
                byte flags = header[4];
                var payload = new byte[length];
                await _stream.ReadExactlyAsync(payload);
                switch (type)
                {
                    case Settings when (flags & Ack) == 0:
                    {
                        var ack = new MemoryStream();
                        WriteFrame(ack, Settings, Ack, 0, []);
                        await WriteAsync(ack.ToArray());
                        break;
                    }

                    case Ping when (flags & Ack) == 0:
                    {
                        var pong = new MemoryStream();
                        WriteFrame(pong, Ping, Ack, 0, payload);
                        await WriteAsync(pong.ToArray());
                        break;
                    }

                    case RstStream:
                        Resets.AddOrUpdate(BinaryPrimitives.ReadUInt32BigEndian(payload), 1, static (_, n) => n + 1);
                        break;
                    case GoAway:
                        GoAwayCode = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4));
                        break;
                }
            }
        }
        catch (Exception error) when (error is EndOfStreamException or IOException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            _closed.TrySetResult();
        }
    }
}
