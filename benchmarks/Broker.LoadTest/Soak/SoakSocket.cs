using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace Broker.LoadTest.Soak;

/// <summary>
/// One life of one browser socket in the soak: upgrade (with the session cookie when the slot plays a cookie
/// browser), <c>hello</c> (with a ticket, or resuming its last positions), <c>subscribe</c>s, publishes, and one
/// receive loop that parses every frame and keeps each subscription's accounting. Ends when the soak aborts it (no
/// close frame), closes it (close handshake), or the broker does (counted as unexpected).
/// </summary>
internal sealed class SoakSocket
{
    /// <summary>Request ids: hello 1, subscribes from 2, publishes from here (a reply's id says what it answers).</summary>
    private const long FirstPublishId = 1000;

    // A broker message coalesces frames up to its batch size (tens of KiB); the buffer grows when one does not fit.
    private const int InitialReceiveBuffer = 8 * 1024;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly SoakCounters _counters;
    private readonly AckLedger _acks;
    private readonly List<SoakSubscription> _history;
    private readonly Dictionary<string, SoakSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SoakSubscription> _resuming = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private int _awaitingReplies;
    private long _nextPublishId = FirstPublishId;
    private long _pendingAcks;
    private bool _ended;
    private volatile bool _closingByUs;

    /// <param name="counters">The soak's shared counters.</param>
    /// <param name="acks">Where acknowledged publications are recorded.</param>
    /// <param name="history">The slot's subscriptions over all its sockets: new ones are added here (by this socket's loop only).</param>
    public SoakSocket(SoakCounters counters, AckLedger acks, List<SoakSubscription> history)
    {
        _counters = counters;
        _acks = acks;
        _history = history;
        _socket.Options.AddSubProtocol("broker.v1.json");
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;  // the protocol's own ping is answered instead
    }

    /// <summary>The subscriptions this socket carries now (the loop adds to them: a snapshot).</summary>
    public SoakSubscription[] Live()
    {
        lock (_gate)
        {
            return [.. _subscriptions.Values];
        }
    }

    /// <summary>Open, said hello and subscribed, and not being ended.</summary>
    public bool IsLive => _ready.Task.IsCompletedSuccessfully && !_closingByUs && !Volatile.Read(ref _ended);

    public long PendingAcks
    {
        get
        {
            lock (_gate)
            {
                return _pendingAcks;
            }
        }
    }

    /// <summary>The receive loop: completes when the socket is gone.</summary>
    public Task Completion => _loop;

    /// <summary>
    /// Connects, says hello (with <paramref name="ticket"/>, or resuming <paramref name="resume"/>'s positions),
    /// subscribes to <paramref name="channels"/>, and returns once <c>welcome</c> and every <c>subscribed</c> came.
    /// </summary>
    public async Task ConnectAsync(Uri server, HttpMessageInvoker invoker, string? cookie, string? ticket, IReadOnlyCollection<SoakSubscription> resume, IReadOnlyList<string> channels, CancellationToken cancellationToken)
    {
        if (cookie is not null)
        {
            _socket.Options.SetRequestHeader("Cookie", cookie);
        }

        foreach (var subscription in resume)
        {
            _resuming[subscription.Channel] = subscription;
        }

        _awaitingReplies = 1 + resume.Count + channels.Count;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadyTimeout);
        await _socket.ConnectAsync(new Uri(server, "/ws"), invoker, timeout.Token);
        _loop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        await SendAsync(Hello(ticket, resume), timeout.Token);
        for (int i = 0; i < channels.Count; i++)
        {
            await SendAsync(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"type\":\"subscribe\",\"id\":{i + 2},\"channel\":\"{channels[i]}\"}}")), timeout.Token);
        }

        await _ready.Task.WaitAsync(timeout.Token);
    }

    /// <summary>Sends a publish (its ack is recorded by the loop); false when the socket is no longer live.</summary>
    public bool TryPublish(string channel, long sequence, int payloadBytes)
    {
        long id;
        lock (_gate)
        {
            if (_ended || _closingByUs)
            {
                return false;
            }

            _pendingAcks++;
            id = _nextPublishId++;
        }

        Interlocked.Increment(ref _counters.PublishesSent);
        _ = PublishAsync(Publish(id, channel, sequence, payloadBytes));
        return true;
    }

    /// <summary>Ends the socket without a close frame (the TCP connection just goes), and waits for the loop to end.</summary>
    public async Task AbortAsync()
    {
        _closingByUs = true;
        Interlocked.Increment(ref _counters.Aborts);
        _socket.Abort();
        await _loop.WaitAsync(CloseTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Dispose();
    }

    /// <summary>Ends the socket with the close handshake (1000), waiting for the broker's close frame; aborts after 10 s.</summary>
    public async Task CloseAsync()
    {
        _closingByUs = true;
        Interlocked.Increment(ref _counters.Closes);
        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await _sendLock.WaitAsync(timeout.Token);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            finally
            {
                _sendLock.Release();
            }

            // The loop ends when the broker's close frame arrives.
            await _loop.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or TimeoutException)
        {
            _counters.Sample("close handshake did not complete: " + ex.Message);
        }

        _socket.Abort();
        await _loop.WaitAsync(CloseTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Dispose();
    }

    /// <summary>Lets go of a socket whose connect failed (its loop may never have started).</summary>
    public async Task FailAsync()
    {
        _closingByUs = true;
        _socket.Abort();
        await _loop.WaitAsync(CloseTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Dispose();
    }

    private void Dispose()
    {
        _socket.Dispose();
    }

    private async Task PublishAsync(byte[] frame)
    {
        try
        {
            await SendAsync(frame, CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The socket is going (aborted by the soak): its loop counts the publish as unacknowledged.
        }
    }

    private async Task SendAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[InitialReceiveBuffer];
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (!_closingByUs)
                    {
                        Unexpected($"the broker closed the socket: {(int?)_socket.CloseStatus} {_socket.CloseStatusDescription}");
                    }

                    break;
                }

                length += result.Count;
                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (HandleMessage(buffer.AsSpan(0, length)))
                {
                    await SendAsync("{\"type\":\"pong\"}"u8.ToArray(), CancellationToken.None);
                    Interlocked.Increment(ref _counters.PingsAnswered);
                }

                length = 0;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            if (!_closingByUs)
            {
                Unexpected("the socket failed: " + ex.Message);
            }
        }
        finally
        {
            long unacknowledged;
            lock (_gate)
            {
                _ended = true;
                unacknowledged = _pendingAcks;
                _pendingAcks = 0;
            }

            Interlocked.Add(ref _counters.Unacknowledged, unacknowledged);
            _ready.TrySetException(new InvalidOperationException("the socket ended before welcome and every subscribed"));
        }
    }

    /// <summary>Handles one message: one or more frames separated by '\n' (PROTOCOL.md). True when it held a <c>ping</c>.</summary>
    private bool HandleMessage(ReadOnlySpan<byte> message)
    {
        bool ping = false;
        while (message.Length > 0)
        {
            int end = message.IndexOf((byte)'\n');
            var frame = end < 0 ? message : message[..end];
            message = end < 0 ? default : message[(end + 1)..];
            if (frame.Length > 0)
            {
                ping |= Handle(frame);
            }
        }

        return ping;
    }

    private bool Handle(ReadOnlySpan<byte> json)
    {
        if (!SoakFrame.TryParse(json, out var frame))
        {
            _counters.Error("unparsable frame");
            _counters.Sample("unparsable frame: " + Encoding.UTF8.GetString(json[..Math.Min(json.Length, 200)]));
            return false;
        }

        switch (frame.Type)
        {
            case SoakFrameType.Pub:
                if (frame.Channel is { } channel && _subscriptions.TryGetValue(channel, out var subscription) && subscription.Epoch == frame.Epoch)
                {
                    subscription.Publication(frame.Offset);
                }
                else if (frame.Channel?.StartsWith('$') != true)
                {
                    Interlocked.Increment(ref _counters.UnexpectedPublications);
                    _counters.Sample($"a pub of {frame.Channel} (epoch {frame.Epoch}, offset {frame.Offset}) without a matching subscription");
                }

                break;
            case SoakFrameType.Lagged:
                if (frame.Channel is { } laggedChannel && _subscriptions.TryGetValue(laggedChannel, out var lagged))
                {
                    lagged.Lagged(frame.Dropped, frame.Offset);
                }

                break;
            case SoakFrameType.Ack:
                _acks.Acked(frame.Channel!, frame.Epoch!, frame.Offset);
                lock (_gate)
                {
                    _pendingAcks--;
                }

                break;
            case SoakFrameType.Subscribed:
                Subscribed(frame);
                break;
            case SoakFrameType.Welcome:
                Replied();
                break;
            case SoakFrameType.Ping:
                return true;
            case SoakFrameType.Error:
                _counters.Error(frame.Code ?? "?");
                _counters.Sample($"error {frame.Code} (id {frame.Id}, channel {frame.Channel})");
                if (frame.Id is >= FirstPublishId)
                {
                    lock (_gate)
                    {
                        _pendingAcks--;  // a refused publish: nothing was published, nothing is owed
                    }
                }
                else
                {
                    _ready.TrySetException(new InvalidOperationException($"error {frame.Code} before the socket was ready"));
                }

                break;
            case SoakFrameType.Disconnect:
                if (!_closingByUs)
                {
                    Unexpected($"disconnect {frame.Code}");
                }

                break;
        }

        return false;
    }

    private void Subscribed(SoakFrame frame)
    {
        string channel = frame.Channel!;
        SoakSubscription? resumed = null;
        if (frame.Id is null && _resuming.Remove(channel, out resumed))
        {
            // A hello.resume entry: recovered continues the same subscription (its gaps are checked across the reconnect).
            if (frame.Recovered && frame.Epoch == resumed.Epoch)
            {
                resumed.Resumes++;
                lock (_gate)
                {
                    _subscriptions[channel] = resumed;
                }

                Interlocked.Increment(ref _counters.Recovered);
                Replied();
                return;
            }

            Interlocked.Increment(ref _counters.NotRecovered);
            _counters.Sample($"resume of {channel} at {resumed.Epoch}/{resumed.Last} not recovered (now {frame.Epoch}/{frame.Offset})");
        }
        else if (frame.Id is null)
        {
            // Unsolicited: the channel's history was lost (a new epoch): a new subscription from here.
            _counters.Sample($"unsolicited subscribed for {channel}: epoch {frame.Epoch}");
        }

        var subscription = new SoakSubscription(channel, frame.Epoch!, frame.Offset);
        lock (_gate)
        {
            _subscriptions[channel] = subscription;
        }

        _history.Add(subscription);
        if (frame.Id is not null || resumed is not null)
        {
            Replied();
        }
    }

    private void Replied()
    {
        if (Interlocked.Decrement(ref _awaitingReplies) == 0)
        {
            _ready.TrySetResult();
        }
    }

    private void Unexpected(string what)
    {
        Interlocked.Increment(ref _counters.UnexpectedCloses);
        _counters.Sample(what);
    }

    private static byte[] Hello(string? ticket, IReadOnlyCollection<SoakSubscription> resume)
    {
        var hello = new StringBuilder("{\"type\":\"hello\",\"id\":1,\"client\":\"loadtest-soak\"");
        if (ticket is not null)
        {
            hello.Append(",\"ticket\":\"").Append(ticket).Append('"');
        }

        if (resume.Count > 0)
        {
            hello.Append(",\"resume\":{");
            bool first = true;
            foreach (var s in resume)
            {
                hello.Append(first ? "" : ",").Append(CultureInfo.InvariantCulture, $"\"{s.Channel}\":{{\"epoch\":\"{s.Epoch}\",\"offset\":{s.Last}}}");
                first = false;
            }

            hello.Append('}');
        }

        return Encoding.UTF8.GetBytes(hello.Append('}').ToString());
    }

    private static byte[] Publish(long id, string channel, long sequence, int payloadBytes)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"type\":\"publish\",\"id\":{id},\"channel\":\"{channel}\",\"data\":{{\"s\":{sequence},\"pad\":\"");
        int pad = Math.Max(0, payloadBytes - 16);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + "\"}}");
    }
}
