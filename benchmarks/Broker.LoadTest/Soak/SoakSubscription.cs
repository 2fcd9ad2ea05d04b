namespace Broker.LoadTest.Soak;

/// <summary>
/// One subscription's accounting, kept across the reconnects that resume it: where it started (the offset its
/// <c>subscribed</c> named), the last offset it received, and every gap in between that no <c>lagged</c> told of.
/// Updated only by the receive loop of the one socket that carries it at a time (a resumed subscription moves to the
/// next socket only after the last one's loop ended), read at the end when every loop has ended.
/// </summary>
/// <remarks>
/// "Stayed throughout a publication's window": subscribed before the publication was numbered (its offset is above
/// <see cref="Start"/>) and still subscribed when a later publication of the channel arrived, or at the end of the
/// soak. So every acknowledged offset between <see cref="Start"/> and <see cref="Last"/> must have arrived or been told
/// as lagged, and a subscription that stayed to the end must reach the channel's highest acknowledged offset. A socket
/// that left mid-run is not owed what was still in flight to it.
/// </remarks>
internal sealed class SoakSubscription(string channel, string epoch, long start)
{
    private readonly List<(long From, long To)> _gaps = [];
    private (long From, long To)? _lagged;

    public string Channel { get; } = channel;

    public string Epoch { get; } = epoch;

    public long Start { get; } = start;

    private long _last = start;

    /// <summary>The last offset received (the start until one arrives); read by the progress line while the loop runs.</summary>
    public long Last => Volatile.Read(ref _last);

    public long Delivered { get; private set; }

    /// <summary>Publications received twice (an offset at or below <see cref="Last"/>): the protocol promises none.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Offsets the broker told as dropped (<c>lagged</c>), and the notices.</summary>
    public long LaggedOffsets { get; private set; }

    public long LaggedNotices { get; private set; }

    /// <summary>Reconnects that resumed this subscription with <c>recovered:true</c>.</summary>
    public int Resumes { get; set; }

    /// <summary>Set when the soak quiesced with this subscription live: it is owed everything up to the channel's top.</summary>
    public bool StayedToEnd { get; set; }

    /// <summary>Gaps no <c>lagged</c> covered: offset ranges that never arrived.</summary>
    public IReadOnlyList<(long From, long To)> Gaps => _gaps;

    /// <summary>A <c>lagged</c>: its <paramref name="dropped"/> publications end at <paramref name="lastDropped"/>.</summary>
    public void Lagged(long dropped, long lastDropped)
    {
        LaggedNotices++;
        LaggedOffsets += dropped;
        _lagged = (lastDropped - dropped + 1, lastDropped);
    }

    /// <summary>A <c>pub</c> of this subscription's channel and epoch.</summary>
    public void Publication(long offset)
    {
        if (offset <= Last)
        {
            Duplicates++;
            return;
        }

        Delivered++;
        if (offset > Last + 1)
        {
            Gap(Last + 1, offset - 1);
        }

        _lagged = null;  // a lagged comes right before the first publication after its drop: it told of this gap only
        Volatile.Write(ref _last, offset);
    }

    /// <summary>The gaps, and for a subscription that stayed to the end the tail up to <paramref name="top"/>, that were acknowledged.</summary>
    public (long Lost, long MissedUnacknowledged) Judge(AckLedger acks, long top)
    {
        if (StayedToEnd && top > Last)
        {
            Gap(Last + 1, top);
            _last = top;
        }

        long lost = 0, missed = 0;
        foreach (var (from, to) in _gaps)
        {
            long acked = acks.CountAcked(Channel, Epoch, from, to);
            lost += acked;
            missed += to - from + 1 - acked;
        }

        return (lost, missed);
    }

    /// <summary>Records [<paramref name="from"/>, <paramref name="to"/>] as missing, less what the pending <c>lagged</c> told of.</summary>
    private void Gap(long from, long to)
    {
        if (_lagged is { } told && told.From <= to && told.To >= from)
        {
            if (from < told.From)
            {
                _gaps.Add((from, told.From - 1));
            }

            if (to > told.To)
            {
                _gaps.Add((told.To + 1, to));
            }

            return;
        }

        _gaps.Add((from, to));
    }
}
