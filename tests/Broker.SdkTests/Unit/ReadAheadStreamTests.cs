using Broker.Sdk.Internal;

namespace Broker.SdkTests.Unit;

public sealed class ReadAheadStreamTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Small_reads_are_served_from_one_read_of_the_inner_stream()
    {
        var inner = new CountingStream(Enumerable.Range(0, 100).Select(i => (byte)i).ToArray());
        var stream = new ReadAheadStream(inner, 64);
        var header = new byte[5];
        Assert.Equal(5, await stream.ReadAsync(header).AsTask().WaitAsync(Timeout));
        Assert.Equal(10, await stream.ReadAsync(new byte[10]).AsTask().WaitAsync(Timeout));
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(Timeout));
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, header);
        Assert.Equal(1, inner.Reads);
    }

    [Fact]
    public async Task The_bytes_come_out_in_order_whatever_the_read_sizes()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var stream = new ReadAheadStream(new CountingStream(data), 64);
        var read = new List<byte>();
        var sizes = new[] { 5, 0, 100, 3, 64, 1, 200 };
        for (int i = 0; ; i++)
        {
            var chunk = new byte[sizes[i % sizes.Length]];
            int n = await stream.ReadAsync(chunk).AsTask().WaitAsync(Timeout);
            if (n == 0 && chunk.Length > 0)
            {
                break;
            }

            read.AddRange(chunk.AsSpan(0, n).ToArray());
        }

        Assert.Equal(data, read.ToArray());
    }

    [Fact]
    public async Task A_zero_byte_read_with_nothing_buffered_waits_on_the_inner_stream()
    {
        var inner = new CountingStream([1, 2, 3]);
        var stream = new ReadAheadStream(inner, 64);
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(Timeout));
        Assert.Equal(1, inner.ZeroByteReads);
    }

    /// <summary>A stream over bytes that returns at most what was asked and counts its reads.</summary>
    private sealed class CountingStream(byte[] data) : MemoryStream(data)
    {
        public int Reads { get; private set; }

        public int ZeroByteReads { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.Length == 0)
            {
                ZeroByteReads++;
            }
            else
            {
                Reads++;
            }

            return base.ReadAsync(buffer, cancellationToken);
        }
    }
}
