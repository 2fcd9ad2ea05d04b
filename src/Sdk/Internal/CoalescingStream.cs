using System.Buffers;

namespace Broker.Sdk.Internal;

/// <summary>
/// A write-behind request body: a write copies its bytes into a buffer and returns at once; one pump sends whatever
/// has gathered as one body write and one flush, and gathers the next batch while that is in flight. Flushes from the
/// caller are no-ops while anything is pending (the pump sends as soon as it can). Bounded by <see cref="MaxBufferedBytes"/>: past it a write
/// waits for the pump. A failed send fails every later write.
/// </summary>
internal sealed class CoalescingStream(Stream inner) : Stream
{
    /// <summary>
    /// Bytes gathered before a write waits: 256 KiB, a few hundred publications. Well above one batch at full speed
    /// (the pump takes what is there every send), small enough to hold HTTP/2 flow control's backpressure.
    /// </summary>
    private const int MaxBufferedBytes = 256 * 1024;

    private readonly Lock _lock = new();
    private byte[] _filling = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private byte[] _sending = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _filled;
    private bool _pumping;
    private bool _closed;
    private Exception? _fault;
    private Task _pump = Task.CompletedTask;
    private TaskCompletionSource? _space;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        bool start;
        lock (_lock)
        {
            if (_fault is not null || _closed)
            {
                return ValueTask.FromException(new IOException("The request stream is broken.", _fault));
            }

            if (_filled >= MaxBufferedBytes)
            {
                return WaitForSpaceAsync(buffer, cancellationToken);
            }

            Append(buffer.Span);
            start = !_pumping;
            _pumping = true;
        }

        if (start)
        {
            // Runs on this thread up to its first send that does not complete at once: no hop to start a batch.
            _pump = PumpAsync();
        }

        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Nothing to do while a batch is gathered or in flight: the pump sends and flushes it as soon as it can. With
    /// nothing pending the flush goes through (Grpc.Net.Client flushes first thing to send the request's headers).
    /// </summary>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_pumping || _filled > 0)
            {
                return Task.CompletedTask;
            }
        }

        return inner.FlushAsync(cancellationToken);
    }

    public override void Flush()
    {
    }

    /// <summary>Completes when everything written so far has been sent (or the stream failed, which it throws).</summary>
    public async Task DrainAsync()
    {
        while (true)
        {
            Task pump;
            lock (_lock)
            {
                if (!_pumping)
                {
                    if (_fault is not null)
                    {
                        throw new IOException("The request stream is broken.", _fault);
                    }

                    return;
                }

                pump = _pump;
            }

            await pump.ConfigureAwait(false);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_lock)
            {
                _closed = true;
                _space?.TrySetResult();
                // The buffers go back to the pool only when no send holds one.
                if (!_pumping)
                {
                    ArrayPool<byte>.Shared.Return(_filling);
                    ArrayPool<byte>.Shared.Return(_sending);
                    _filling = _sending = [];
                }
            }
        }

        base.Dispose(disposing);
    }

    private async ValueTask WaitForSpaceAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        Task space;
        lock (_lock)
        {
            space = (_space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        await space.WaitAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Under the lock: copies into the filling buffer, growing it (from the pool) when needed.</summary>
    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_filled + bytes.Length > _filling.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_filling.Length * 2, _filled + bytes.Length));
            _filling.AsSpan(0, _filled).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_filling);
            _filling = larger;
        }

        bytes.CopyTo(_filling.AsSpan(_filled));
        _filled += bytes.Length;
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            byte[] batch;
            int length;
            TaskCompletionSource? space;
            lock (_lock)
            {
                if (_filled == 0 || _closed)
                {
                    _pumping = false;
                    return;
                }

                batch = _filling;
                length = _filled;
                _filling = _sending;
                _sending = batch;
                _filled = 0;
                space = _space;
                _space = null;
            }

            space?.TrySetResult();
            try
            {
                await inner.WriteAsync(batch.AsMemory(0, length)).ConfigureAwait(false);
                await inner.FlushAsync().ConfigureAwait(false);
            }
            catch (Exception error)
            {
                lock (_lock)
                {
                    _fault = error;
                    _pumping = false;
                    _space?.TrySetResult();
                }

                return;
            }
        }
    }
}
