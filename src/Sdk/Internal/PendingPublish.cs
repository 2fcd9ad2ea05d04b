using Broker.V1;

namespace Broker.Sdk.Internal;

/// <summary>One publication of a <see cref="BrokerPublisher"/>, from <c>PublishAsync</c> to its reply; holds one in-flight slot until then.</summary>
/// <remarks>
/// It is its own <see cref="TaskCompletionSource{TResult}"/>: one object per publication instead of two. Continuations
/// run asynchronously, so a caller's code after <c>await</c> never runs on (and stalls) the publisher's reply loop.
/// </remarks>
internal sealed class PendingPublish : TaskCompletionSource<PublishResult>
{
    private readonly Action _release;
    private int _done;
    private int _counted;

    /// <param name="request">The request, without its request id (set per send).</param>
    /// <param name="release">Frees the in-flight slot this publication took when it was sent.</param>
    public PendingPublish(PublishRequest request, Action release)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Request = request;
        _release = release;
    }

    public PublishRequest Request { get; }

    /// <summary>How many times it was re-sent after a broken stream.</summary>
    public int Attempts { get; set; }

    /// <summary>Answered or failed: the slot is free and nothing more will be sent.</summary>
    public bool IsDone => Volatile.Read(ref _done) != 0;

    /// <summary>Notes that this publication holds an in-flight slot (taken by the writer when it first sends it).</summary>
    public void TakeSlot() => Volatile.Write(ref _counted, 1);

    /// <summary>True once it holds a slot.</summary>
    public bool HoldsSlot => Volatile.Read(ref _counted) != 0;

    public void Complete(PublishResult result)
    {
        TrySetResult(result);
        Release();
    }

    public void Fail(Exception error)
    {
        TrySetException(error);
        Release();
    }

    /// <summary>The caller stopped waiting. The slot stays taken until the broker answers: the request may be on the wire.</summary>
    public void CancelWait(CancellationToken token) => TrySetCanceled(token);

    private void Release()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0 && HoldsSlot)
        {
            _release();
        }
    }
}
