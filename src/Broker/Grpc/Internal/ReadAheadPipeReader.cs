using System.Buffers;
using System.IO.Pipelines;

namespace Broker.Grpc.Internal;

/// <summary>
/// A request body reader that hands out what one read of Kestrel's body returned, message by message, before it
/// goes back to Kestrel: a read that finds unexamined data left returns it at once; only when the reader has examined
/// everything (it needs more bytes) is Kestrel advanced and read again.
/// </summary>
/// <remarks>
/// Written by hand because Grpc.AspNetCore reads a request stream one message per pipe read: each message is a
/// <c>ReadAsync</c> and an <c>AdvanceTo</c> on Kestrel's HTTP/2 request body, which takes the stream's flow-control
/// lock and counts the bytes read for the data-rate check each time. A PublishStream carrying hundreds of
/// publications in one DATA frame paid that per publication. The bytes are released to Kestrel (and so to the
/// client's flow-control window) once the messages of a read are taken, a few microseconds later than before.
/// One reader at a time, as a <see cref="PipeReader"/> requires.
/// </remarks>
internal sealed class ReadAheadPipeReader(PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> _held;
    private bool _holding;
    private bool _completed;
    private SequencePosition _consumed;
    private SequencePosition _examined;
    private bool _examinedAll;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (TryServeHeld(out var held))
        {
            return new(held);
        }

        var read = inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            return new(Hold(read.Result));
        }

        return AwaitAsync(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (TryServeHeld(out result))
        {
            return true;
        }

        if (inner.TryRead(out result))
        {
            result = Hold(result);
            return true;
        }

        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_holding)
        {
            inner.AdvanceTo(consumed, examined);
            return;
        }

        _consumed = consumed;
        _examined = examined;
        _examinedAll = _held.Slice(examined).IsEmpty;
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    /// <summary>Advances Kestrel past what the reader consumed of a read still held (the call has ended).</summary>
    public void ReleaseHeld() => Release();

    public override void Complete(Exception? exception = null)
    {
        Release();
        inner.Complete(exception);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        Release();
        return inner.CompleteAsync(exception);
    }

    /// <summary>The rest of the held read, when the reader has not examined all of it; else Kestrel is advanced past it.</summary>
    private bool TryServeHeld(out ReadResult result)
    {
        if (_holding && !_examinedAll)
        {
            _held = _held.Slice(_consumed);
            result = new ReadResult(_held, isCanceled: false, _completed);
            return true;
        }

        Release();
        result = default;
        return false;
    }

    /// <summary>Keeps a read to serve from; a cancelled read passes straight through.</summary>
    private ReadResult Hold(ReadResult result)
    {
        if (!result.IsCanceled)
        {
            _held = result.Buffer;
            _completed = result.IsCompleted;
            _consumed = _examined = _held.Start;
            _examinedAll = false;
            _holding = true;
        }

        return result;
    }

    /// <summary>Advances Kestrel past what the reader consumed of the held read.</summary>
    private void Release()
    {
        if (_holding)
        {
            _holding = false;
            _held = default;
            inner.AdvanceTo(_consumed, _examined);
        }
    }

    private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> read) => Hold(await read.ConfigureAwait(false));
}
