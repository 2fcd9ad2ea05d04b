namespace Broker.Sdk.Internal;

/// <summary>
/// A response body read through a buffer by one reader at a time: a read that what is buffered can answer returns at
/// once, with no lock and no trip to the HTTP/2 stream; the next read that finds the buffer empty fills it with one
/// read of whatever the connection has received.
/// </summary>
/// <remarks>
/// Written by hand, not <see cref="BufferedStream"/>: BufferedStream takes and releases its async semaphore on every
/// <c>ReadAsync</c>, and Grpc.Net.Client makes three reads per message (a zero-byte read, the 5-byte prefix, the
/// payload), so a Subscribe stream paid six semaphore operations per delivery. Grpc.Net.Client never reads a response
/// concurrently (its <c>MoveNext</c> refuses an overlapping read), which is all the semaphore guarded against.
/// A zero-byte read with nothing buffered is passed on as a zero-byte read: an idle stream waits for data without
/// holding a filled buffer, as Grpc.Net.Client intends with it.
/// </remarks>
internal sealed class ReadAheadStream(Stream inner, int bufferSize) : Stream
{
    private byte[]? _buffer;
    private int _start;
    private int _end;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_end > _start)
        {
            return new(FromBuffer(destination.Span));
        }

        // Nothing buffered: a zero-byte read waits for data, a read as large as the buffer needs no copy through it.
        if (destination.Length == 0 || destination.Length >= bufferSize)
        {
            return inner.ReadAsync(destination, cancellationToken);
        }

        return FillAndReadAsync(destination, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> destination)
    {
        if (_end > _start)
        {
            return FromBuffer(destination);
        }

        if (destination.Length == 0 || destination.Length >= bufferSize)
        {
            return inner.Read(destination);
        }

        _buffer ??= new byte[bufferSize];
        _start = 0;
        _end = inner.Read(_buffer);
        return FromBuffer(destination);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<int> FillAndReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        _buffer ??= new byte[bufferSize];
        int read = await inner.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        _start = 0;
        _end = read;
        return FromBuffer(destination.Span);
    }

    private int FromBuffer(Span<byte> destination)
    {
        int count = Math.Min(_end - _start, destination.Length);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        return count;
    }
}
