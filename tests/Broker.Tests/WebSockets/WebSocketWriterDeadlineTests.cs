using System.Net.WebSockets;
using Broker.WebSockets.Internal;
using Microsoft.AspNetCore.Http.Features;
using Broker.Testing;

namespace Broker.Tests.WebSockets;

/// <summary>
/// The write deadline of <see cref="WebSocketWriter"/>: none for a send that completes at once, and for a send
/// that blocks, an abort of the connection at the write timeout. The stream stands in for Kestrel's upgraded
/// stream as it behaves when the client stops reading: a write waits for the pipe to drain, disposing the
/// stream (what <c>WebSocket.Abort</c> does) does not end it, only aborting the connection does.
/// </summary>
public class WebSocketWriterDeadlineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly byte[] Message = "{\"type\":\"pong\"}"u8.ToArray();

    [Fact]
    public async Task ASendThatCompletesAtOnceReachesTheStreamWithoutACancellableToken()
    {
        var stream = new OutputStream();
        var connection = new Connection(stream);
        using var writer = Writer(stream, connection);

        for (int i = 0; i < 100; i++)
        {
            var send = writer.SendAsync(Message);
            Assert.True(send.IsCompletedSuccessfully);
            await send;
        }

        // A cancellable token would send ManagedWebSocket down its slower path and mean a deadline was armed.
        Assert.Equal(100, stream.Writes);
        Assert.Equal(0, stream.CancellableWrites);
        Assert.False(writer.TimedOut);
        Assert.Equal(0, connection.Aborts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASendBlockedPastTheWriteTimeoutIsReleasedByAbortingTheConnection(bool releasedWithAnError)
    {
        // Without an error is how Kestrel ends the flush (its pipe's reader completed); with one, a reset socket.
        var stream = new OutputStream { Blocked = true, ReleaseWithError = releasedWithAnError };
        var connection = new Connection(stream);
        using var writer = Writer(stream, connection);

        var send = writer.SendAsync(Message).AsTask();

        // A send that is not released never ends, and WaitAsync's TimeoutException fails the test.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(Timeout));
        Assert.True(writer.TimedOut);
        Assert.Equal(1, connection.Aborts);
        Assert.Equal(WebSocketState.Aborted, stream.Socket!.State);
    }

    [Fact]
    public async Task ASlowSendThatEndsInTimeSucceedsAndTheNextSlowSendHasItsOwnDeadline()
    {
        var stream = new OutputStream { Blocked = true };
        var connection = new Connection(stream);
        using var writer = Writer(stream, connection);

        var first = writer.SendAsync(Message).AsTask();
        Assert.False(first.IsCompleted);
        stream.Release();  // the client read in time
        await first.WaitAsync(Timeout);
        Assert.False(writer.TimedOut);
        Assert.Equal(0, connection.Aborts);

        // The deadline was disarmed with its registration dropped: the next slow send arms and registers its own.
        var second = writer.SendAsync(Message).AsTask();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(Timeout));
        Assert.True(writer.TimedOut);
        Assert.Equal(1, connection.Aborts);
    }

    [Fact]
    public async Task ADeadlineThatPassesAfterTheRequestEndedAbortsNothing()
    {
        var stream = new OutputStream { Blocked = true };
        var connection = new Connection(stream);
        using var writer = Writer(stream, connection);

        var send = writer.SendAsync(Message).AsTask();
        writer.DetachConnection();

        // Nothing but the deadline's own state tells that it passed (it aborts nothing now): poll it, bounded.
        Assert.True(SpinWait.SpinUntil(() => writer.TimedOut, Timeout));
        Assert.Equal(0, connection.Aborts);
        Assert.Equal(WebSocketState.Open, stream.Socket!.State);
        stream.Release();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(Timeout));
    }

    private static WebSocketWriter Writer(OutputStream stream, Connection connection)
    {
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        stream.Socket = socket;
        return new WebSocketWriter(socket, connection, WriteTimeout);
    }

    /// <summary>The request's lifetime feature: its abort ends whatever write the stream holds.</summary>
    private sealed class Connection(OutputStream stream) : IHttpRequestLifetimeFeature
    {
        private int _aborts;

        public int Aborts => Volatile.Read(ref _aborts);

        public CancellationToken RequestAborted { get; set; }

        public void Abort()
        {
            Interlocked.Increment(ref _aborts);
            stream.Release();
        }
    }

    /// <summary>
    /// The upgraded stream's write side: writes complete at once unless <see cref="Blocked"/>, then they wait for
    /// <see cref="Release"/> or their token. Dispose ends nothing, as Kestrel's upgraded stream does not.
    /// </summary>
    private sealed class OutputStream : WriteOnlyTestStream
    {
        private TaskCompletionSource? _pending;
        private int _writes;
        private int _cancellableWrites;

        public bool Blocked { get; set; }

        public bool ReleaseWithError { get; set; }

        public WebSocket? Socket { get; set; }

        public int Writes => Volatile.Read(ref _writes);

        public int CancellableWrites => Volatile.Read(ref _cancellableWrites);

        // WebSocket.CreateFromStream wants a stream it can read too; the tests never send it anything to read.
        public override bool CanRead => true;

        /// <summary>Ends the waiting write (the client read, or the connection is gone); later writes block again while <see cref="Blocked"/>.</summary>
        public void Release()
        {
            var pending = Interlocked.Exchange(ref _pending, null);
            if (ReleaseWithError)
            {
                pending?.TrySetException(new IOException("connection reset"));
            }
            else
            {
                pending?.TrySetResult();
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _writes);
            if (cancellationToken.CanBeCanceled)
            {
                Interlocked.Increment(ref _cancellableWrites);
            }

            if (!Blocked)
            {
                return ValueTask.CompletedTask;
            }

            var pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _pending, pending);
            cancellationToken.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetCanceled(), pending);
            return new ValueTask(pending.Task);
        }
    }
}
