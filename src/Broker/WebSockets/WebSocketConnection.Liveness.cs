using Broker.WebSockets.Internal;
namespace Broker.WebSockets;

public sealed partial class WebSocketConnection
{
    private readonly Lock _pingGate = new();
    private ITimer? _helloTimer;
    private ITimer? _pingTimer;
    private ITimer? _pongTimer;
    private long _lastReceived;
    private long _unansweredPing;

    /// <summary>The session said hello (bound or refused): the hello deadline is over.</summary>
    internal void HelloReceived() =>
        Interlocked.Exchange(ref _helloTimer, null)?.Dispose();  // dropped, not only stopped: an idle socket should not keep a dead timer

    /// <summary>Starts the ping every <c>PingInterval</c> and the pong deadline (after hello).</summary>
    internal void StartPings()
    {
        _pongTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!).OnPongDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _pingTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!).OnPingDue(), this, _options.PingInterval, _options.PingInterval);
    }

    private void StartHelloTimer() =>
        _helloTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!).OnHelloTimeout(), this, _options.HelloTimeout, Timeout.InfiniteTimeSpan);

    private void StopTimers()
    {
        Interlocked.Exchange(ref _helloTimer, null)?.Dispose();
        _pingTimer?.Dispose();
        _pongTimer?.Dispose();
    }

    private void OnHelloTimeout()
    {
        if (Client is null)
        {
            Violation(WebSocketCloseCodes.Policy, $"no hello within {_options.HelloTimeout}");
        }
    }

    /// <summary>
    /// Sends a ping. The pong deadline belongs to the oldest ping not yet answered by any frame: a later
    /// ping does not push it back (else a PongTimeout longer than the PingInterval would never fire).
    /// </summary>
    private void OnPingDue()
    {
        lock (_pingGate)
        {
            long now = _services.Time.GetTimestamp();
            if (_unansweredPing == 0 || Volatile.Read(ref _lastReceived) >= _unansweredPing)
            {
                _unansweredPing = now;
                _pongTimer?.Change(_options.PongTimeout, Timeout.InfiniteTimeSpan);
            }
        }

        EnqueueReply(ServerFrames.Ping);
    }

    private void OnPongDue()
    {
        lock (_pingGate)
        {
            // Any frame at all after the ping proves the client alive (PROTOCOL.md), not only a pong.
            if (_unansweredPing == 0 || Volatile.Read(ref _lastReceived) >= _unansweredPing)
            {
                return;
            }

            // Timers may fire a little early: until the ping's full timeout has passed, look again then.
            var waited = _services.Time.GetElapsedTime(_unansweredPing);
            if (waited < _options.PongTimeout)
            {
                _pongTimer?.Change(_options.PongTimeout - waited, Timeout.InfiniteTimeSpan);
                return;
            }
        }

        Violation(WebSocketCloseCodes.Policy, "no frame within the pong timeout of a ping");
    }
}
