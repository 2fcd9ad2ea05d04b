using System.Runtime.InteropServices;
using System.Text;
using Broker.WebSockets.Internal;

namespace Broker.Tests.WebSockets;

public class FrameBatchTests
{
    [Fact]
    public void OneFrameIsSentFromItsOwnBytes()
    {
        byte[] frame = Encoding.UTF8.GetBytes("{\"type\":\"pong\"}");
        var batch = default(FrameBatch);
        batch.Append(frame);

        Assert.True(MemoryMarshal.TryGetArray(batch.Memory, out var segment));
        Assert.Same(frame, segment.Array);
        Assert.Equal(frame.Length, batch.Length);
        batch.Dispose();
        Assert.Equal(0, batch.Length);
    }

    [Fact]
    public void FramesAfterTheFirstAreJoinedByNewlinesInAPooledBuffer()
    {
        byte[] first = Encoding.UTF8.GetBytes("{\"a\":1}");
        byte[] second = Encoding.UTF8.GetBytes("{\"b\":2}");
        byte[] third = Encoding.UTF8.GetBytes("{\"c\":3}");
        var batch = default(FrameBatch);
        batch.Append(first);
        batch.Append(second);
        batch.Append(third);

        Assert.Equal("{\"a\":1}\n{\"b\":2}\n{\"c\":3}", Encoding.UTF8.GetString(batch.Memory.Span));
        Assert.Equal(batch.Memory.Length, batch.Length);
        Assert.True(MemoryMarshal.TryGetArray(batch.Memory, out var segment));
        Assert.NotSame(first, segment.Array);
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(first));  // the first frame's own bytes are left as they were
        batch.Dispose();
    }

    [Fact]
    public void ABatchLargerThanTheFirstBufferGrows()
    {
        byte[] frame = new byte[10_000];
        Array.Fill(frame, (byte)'x');
        var batch = default(FrameBatch);
        for (int i = 0; i < 5; i++)
        {
            batch.Append(frame);
        }

        Assert.Equal((5 * 10_000) + 4, batch.Length);
        Assert.Equal(4, batch.Memory.Span.Count((byte)'\n'));
        batch.Dispose();
    }
}
