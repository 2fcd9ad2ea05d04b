using System.Buffers.Text;
using System.Text;

namespace Broker.LoadTest;

/// <summary>
/// The JSON payload every server carries: <c>{"lt":&lt;send timestamp&gt;,"seq":n,"pad":"xx…"}</c>, padded to the
/// requested size. <c>lt</c> is a <see cref="System.Diagnostics.Stopwatch"/> timestamp (CLOCK_MONOTONIC on Linux,
/// the same clock in every process of the machine); the receive loops find it by its <c>"lt":</c> marker.
/// </summary>
internal static class Payload
{
    public static readonly byte[] Marker = "\"lt\":"u8.ToArray();

    /// <summary>What follows the timestamp: the publication's sequence number comes next.</summary>
    public static readonly byte[] SequenceMarker = ",\"seq\":"u8.ToArray();

    /// <summary>A warm-up payload of the same size: no timestamp, so the receive loops do not count it.</summary>
    public static byte[] Warmup(int size) => Encoding.UTF8.GetBytes("{\"warmup\":\"" + new string('x', Math.Max(0, size - 14)) + "\"}");

    /// <summary>The payload, formatted straight into its one array: the generator spends its CPU on the sockets, not here.</summary>
    public static byte[] Create(long timestamp, long sequence, int size)
    {
        Span<byte> head = stackalloc byte[64];
        int n = 0;
        Append(head, ref n, "{\"lt\":"u8);
        Utf8Formatter.TryFormat(timestamp, head[n..], out int written);
        n += written;
        Append(head, ref n, ",\"seq\":"u8);
        Utf8Formatter.TryFormat(sequence, head[n..], out written);
        n += written;
        Append(head, ref n, ",\"pad\":\""u8);
        var bytes = new byte[Math.Max(size, n + 2)];
        head[..n].CopyTo(bytes);
        bytes.AsSpan(n, bytes.Length - n - 2).Fill((byte)'x');
        bytes[^2] = (byte)'"';
        bytes[^1] = (byte)'}';
        return bytes;
    }

    private static void Append(Span<byte> destination, ref int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(destination[at..]);
        at += text.Length;
    }
}
