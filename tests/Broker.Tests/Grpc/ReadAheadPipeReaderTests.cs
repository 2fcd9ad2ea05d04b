using System.Buffers;
using System.IO.Pipelines;
using Broker.Grpc.Internal;

namespace Broker.Tests.Grpc;

public sealed class ReadAheadPipeReaderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Messages_of_one_read_are_served_without_going_back_to_the_inner_reader()
    {
        var pipe = new Pipe();
        var inner = new CountingReader(pipe.Reader);
        var reader = new ReadAheadPipeReader(inner);
        await pipe.Writer.WriteAsync(Enumerable.Range(0, 30).Select(i => (byte)i).ToArray());

        for (int message = 0; message < 3; message++)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal(30 - (message * 10), result.Buffer.Length);
            Assert.Equal((byte)(message * 10), result.Buffer.FirstSpan[0]);
            reader.AdvanceTo(result.Buffer.GetPosition(10));  // one whole 10-byte message taken, the rest not examined
        }

        Assert.Equal(1, inner.Reads);
        Assert.Equal(0, inner.Advances);
    }

    [Fact]
    public async Task When_everything_was_examined_the_next_read_advances_the_inner_reader_and_waits_for_more()
    {
        var pipe = new Pipe();
        var inner = new CountingReader(pipe.Reader);
        var reader = new ReadAheadPipeReader(inner);
        await pipe.Writer.WriteAsync(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 });

        var first = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
        reader.AdvanceTo(first.Buffer.GetPosition(10));
        var rest = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(3, rest.Buffer.Length);
        reader.AdvanceTo(rest.Buffer.Start, rest.Buffer.End);  // an incomplete message: needs more bytes

        var next = reader.ReadAsync().AsTask();
        Assert.False(next.IsCompleted);
        Assert.Equal(1, inner.Advances);
        await pipe.Writer.WriteAsync(new byte[] { 14, 15, 16, 17, 18, 19, 20 });
        var whole = await next.WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(11, 10).Select(i => (byte)i).ToArray(), whole.Buffer.ToArray());
        Assert.Equal(2, inner.Reads);
    }

    [Fact]
    public async Task Completing_releases_what_was_consumed_and_the_end_of_the_body_is_reported()
    {
        var pipe = new Pipe();
        var reader = new ReadAheadPipeReader(pipe.Reader);
        await pipe.Writer.WriteAsync(new byte[] { 1, 2, 3 });
        await pipe.Writer.CompleteAsync();

        var result = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.True(result.IsCompleted);
        reader.AdvanceTo(result.Buffer.End);
        var end = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
        reader.AdvanceTo(end.Buffer.End);
        await reader.CompleteAsync();
    }

    /// <summary>Counts the reads and advances that reach the inner reader.</summary>
    private sealed class CountingReader(PipeReader inner) : PipeReader
    {
        public int Reads { get; private set; }

        public int Advances { get; private set; }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            Reads++;
            return inner.ReadAsync(cancellationToken);
        }

        public override bool TryRead(out ReadResult result)
        {
            Reads++;
            return inner.TryRead(out result);
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            Advances++;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
