using System.Net;

namespace Broker.WebSockets.Internal;

/// <summary>
/// The brute-force guard on tickets: counts <c>hello</c>s with a refused ticket per client address in fixed one-minute windows,
/// and once an address has had <c>Broker:WebSocket:MaxFailedHellosPerIp</c> refused in the current window, its
/// further <c>hello</c>s are refused (<c>rate_limited</c>, close 1008) before they reach the ticket store.
/// </summary>
/// <remarks>
/// <para>
/// A ticket is 256 random bits, so guessing one is hopeless; what the guard protects is the cost of trying (a
/// store round trip, a log line, a socket) and the operator's logs. A fixed window, not a sliding one: one counter
/// and one timestamp per address, and a client that stops is forgiven within a minute.
/// </para>
/// <para>
/// Memory is bounded: an address is kept only while it has failures in the current window, and the whole table is
/// swept when a window ends. Between sweeps it holds at most the addresses that failed within two minutes.
/// </para>
/// </remarks>
internal sealed class HelloGuard(int maxFailures, TimeProvider time)
{
    /// <summary>The window failures are counted in.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, Failures> _byIp = [];
    private long _nextSweepTicks;

    /// <summary>Whether <paramref name="address"/> has used up its failures for this window.</summary>
    public bool IsBlocked(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        long now = time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            return _byIp.TryGetValue(ConnectionLimiter.Normalize(address), out var failures)
                && now < failures.WindowStart + Window.Ticks
                && failures.Count >= maxFailures;
        }
    }

    /// <summary>Counts a refused <c>hello</c> from <paramref name="address"/>; true when that one used up the window's allowance.</summary>
    public bool RecordFailure(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        long now = time.GetUtcNow().UtcTicks;
        var key = ConnectionLimiter.Normalize(address);
        lock (_gate)
        {
            SweepIfDue(now);
            if (!_byIp.TryGetValue(key, out var failures) || now >= failures.WindowStart + Window.Ticks)
            {
                failures = new Failures(now, 0);
            }

            failures = failures with { Count = failures.Count + 1 };
            _byIp[key] = failures;
            return failures.Count == maxFailures;
        }
    }

    /// <summary>Addresses now tracked (for tests: the table stays bounded).</summary>
    public int Tracked
    {
        get
        {
            lock (_gate)
            {
                return _byIp.Count;
            }
        }
    }

    private void SweepIfDue(long now)
    {
        if (now < _nextSweepTicks)
        {
            return;
        }

        _nextSweepTicks = now + Window.Ticks;
        List<IPAddress>? stale = null;
        foreach (var (address, failures) in _byIp)
        {
            if (now >= failures.WindowStart + Window.Ticks)
            {
                (stale ??= []).Add(address);
            }
        }

        if (stale is not null)
        {
            foreach (var address in stale)
            {
                _byIp.Remove(address);
            }
        }
    }

    private readonly record struct Failures(long WindowStart, int Count);
}
