using System.Globalization;
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

    /// <summary>A warm-up payload of the same size: no timestamp, so the receive loops do not count it.</summary>
    public static byte[] Warmup(int size) => Encoding.UTF8.GetBytes("{\"warmup\":\"" + new string('x', Math.Max(0, size - 14)) + "\"}");

    public static byte[] Create(long timestamp, long sequence, int size)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"lt\":{timestamp},\"seq\":{sequence},\"pad\":\"");
        int pad = Math.Max(0, size - head.Length - 2);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}");
    }
}
