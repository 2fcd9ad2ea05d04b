namespace Broker.LoadTest.Soak;

/// <summary>
/// One of the soak's browsers: a source address, a way of saying hello, a session cookie when it has one, the socket
/// it has now, and every subscription its sockets ever had (judged at the end).
/// </summary>
internal sealed class SoakSlot(int index, int source, SoakAuth auth)
{
    private volatile SoakSocket? _socket;
    private volatile bool _busy;

    public int Index { get; } = index;

    public int Source { get; } = source;

    public SoakAuth Auth { get; } = auth;

    /// <summary>The <c>Cookie</c> header value of the slot's session (cookie and ticket slots), made on first use.</summary>
    public string? Cookie { get; set; }

    public SoakSocket? Socket { get => _socket; set => _socket = value; }

    /// <summary>Being churned or (re)connected: not picked to publish or churn.</summary>
    public bool Busy { get => _busy; set => _busy = value; }

    public List<SoakSubscription> History { get; } = [];
}
