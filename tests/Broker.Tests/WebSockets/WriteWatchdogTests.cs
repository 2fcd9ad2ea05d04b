using System.Net.WebSockets;
using Broker.Testing;
using Broker.WebSockets;
using Microsoft.Extensions.Options;

namespace Broker.Tests.WebSockets;

public class WriteWatchdogTests
{
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task ASendBlockedPastTheTimeoutIsAbortedAndOnlyThen()
    {
        var time = new ManualTimeProvider();
        using var watchdog = new WriteWatchdog(time, Options.Create(new WebSocketTransportOptions { WriteTimeout = WriteTimeout }));
        await using var stream = new BlockingStream();
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true });
        var writer = new WebSocketWriter(socket, WriteTimeout, time);
        watchdog.Watch(writer);

        var send = writer.SendAsync("{\"type\":\"ping\"}"u8.ToArray()).AsTask();
        await stream.WriteStarted.WaitAsync(TimeSpan.FromSeconds(10));

        // The test's clock has no timers: each CheckNow is one tick of the watchdog.
        time.Advance(WriteTimeout);  // at the timeout, not past it
        watchdog.CheckNow();
        Assert.False(writer.TimedOut);
        Assert.False(send.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        watchdog.CheckNow();
        Assert.True(writer.TimedOut);
        await Assert.ThrowsAnyAsync<Exception>(() => send.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketState.Aborted, socket.State);
    }

    [Fact]
    public async Task AFinishedSendIsNeverOverdue()
    {
        var time = new ManualTimeProvider();
        using var watchdog = new WriteWatchdog(time, Options.Create(new WebSocketTransportOptions { WriteTimeout = WriteTimeout }));
        using var socket = WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true });
        var writer = new WebSocketWriter(socket, WriteTimeout, time);
        watchdog.Watch(writer);
        await writer.SendAsync("{\"type\":\"ping\"}"u8.ToArray()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        time.Advance(WriteTimeout * 10);
        watchdog.CheckNow();
        Assert.False(writer.TimedOut);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public void TheTickIsAQuarterOfTheTimeoutWithinBounds()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), WriteWatchdog.TickFor(TimeSpan.FromSeconds(2)));
        Assert.Equal(TimeSpan.FromSeconds(1), WriteWatchdog.TickFor(TimeSpan.FromMinutes(1)));
        Assert.Equal(TimeSpan.FromMilliseconds(10), WriteWatchdog.TickFor(TimeSpan.FromMilliseconds(1)));
    }

    /// <summary>A stream whose writes never complete until it is disposed: a client that reads nothing.</summary>
    private sealed class BlockingStream : Stream
    {
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _writeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WriteStarted => _writeStarted.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _writeStarted.TrySetResult();
            await _disposed.Task.WaitAsync(cancellationToken);
            throw new ObjectDisposedException(nameof(BlockingStream));
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(static _ => 0, TaskScheduler.Default));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _disposed.TrySetResult();
            base.Dispose(disposing);
        }
    }
}
