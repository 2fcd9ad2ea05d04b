using System.Text;
using Broker.Sdk.Internal;
using Broker.Testing;

namespace Broker.SdkTests.Unit;

public sealed class CoalescingStreamTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Writes_made_while_a_send_is_in_flight_leave_together_in_order_and_return_at_once()
    {
        var inner = new GatedStream();
        using var stream = new CoalescingStream(inner);

        var first = stream.WriteAsync(Bytes("a"));
        Assert.True(first.IsCompletedSuccessfully);
        await inner.FirstWriteStarted.WaitAsync(Timeout);  // "a" is being sent and held there

        var second = stream.WriteAsync(Bytes("b"));
        var third = stream.WriteAsync(Bytes("c"));
        Assert.True(second.IsCompletedSuccessfully, "a write waited for the send in flight");
        Assert.True(third.IsCompletedSuccessfully, "a write waited for the send in flight");

        inner.Release();
        await stream.DrainAsync().WaitAsync(Timeout);
        Assert.Equal(["a", "bc"], inner.Writes);
    }

    [Fact]
    public async Task A_failed_send_fails_the_drain_and_every_later_write()
    {
        var inner = new GatedStream { Fail = true };
        using var stream = new CoalescingStream(inner);
        await stream.WriteAsync(Bytes("a"));
        inner.Release();

        await Assert.ThrowsAsync<IOException>(() => stream.DrainAsync().WaitAsync(Timeout));
        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(Bytes("b")).AsTask().WaitAsync(Timeout));
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Records each write; the first one waits until <see cref="Release"/>.</summary>
    private sealed class GatedStream : WriteOnlyTestStream
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _firstWriteStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Writes { get; } = [];

        public bool Fail { get; init; }

        public Task FirstWriteStarted => _firstWriteStarted.Task;

        public void Release() => _gate.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var text = Encoding.UTF8.GetString(buffer.Span);
            _firstWriteStarted.TrySetResult();
            await _gate.Task.WaitAsync(Timeout, cancellationToken);
            if (Fail)
            {
                throw new IOException("connection reset");
            }

            lock (Writes)
            {
                Writes.Add(text);
            }
        }
    }
}
