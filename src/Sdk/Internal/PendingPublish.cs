using Broker.V1;

namespace Broker.Sdk.Internal;

/// <summary>One publication of a <see cref="BrokerPublisher"/>, from <c>PublishAsync</c> to its reply; holds one in-flight slot until then.</summary>
internal sealed class PendingPublish
{
    private readonly TaskCompletionSource<PublishResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _slots;
    private int _released;

    public PendingPublish(PublishRequest request, SemaphoreSlim slots)
    {
        Request = request;
        _slots = slots;
    }

    public PublishRequest Request { get; }

    /// <summary>How many times it was re-sent after a broken stream.</summary>
    public int Attempts { get; set; }

    public Task<PublishResult> Task => _result.Task;

    /// <summary>Answered or failed: the slot is free and nothing more will be sent.</summary>
    public bool IsDone => Volatile.Read(ref _released) != 0;

    public void Complete(PublishResult result)
    {
        _result.TrySetResult(result);
        Release();
    }

    public void Fail(Exception error)
    {
        _result.TrySetException(error);
        Release();
    }

    /// <summary>The caller stopped waiting. The slot stays taken until the broker answers: the request may be on the wire.</summary>
    public void CancelWait(CancellationToken token) => _result.TrySetCanceled(token);

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _slots.Release();
        }
    }
}
