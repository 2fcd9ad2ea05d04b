namespace Broker.LoadTest.Soak;

/// <summary>
/// Which publications the broker acknowledged to a publisher: per channel and epoch, the set of acknowledged offsets
/// (one bit each) and the highest. Written by every publisher socket's receive loop, read at the end.
/// </summary>
internal sealed class AckLedger
{
    private readonly Dictionary<(string Channel, string Epoch), Offsets> _channels = [];
    private long _acks;

    /// <summary>Acknowledgements recorded.</summary>
    public long Count => Interlocked.Read(ref _acks);

    public void Acked(string channel, string epoch, long offset)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue((channel, epoch), out var offsets))
            {
                _channels[(channel, epoch)] = offsets = new Offsets();
            }

            offsets.Add(offset);
        }

        Interlocked.Increment(ref _acks);
    }

    /// <summary>Whether <paramref name="offset"/> of the channel's <paramref name="epoch"/> was acknowledged.</summary>
    public bool IsAcked(string channel, string epoch, long offset)
    {
        lock (_channels)
        {
            return _channels.TryGetValue((channel, epoch), out var offsets) && offsets.Contains(offset);
        }
    }

    /// <summary>Acknowledged offsets in [<paramref name="from"/>, <paramref name="to"/>].</summary>
    public long CountAcked(string channel, string epoch, long from, long to)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue((channel, epoch), out var offsets))
            {
                return 0;
            }

            long count = 0;
            for (long offset = Math.Max(1, from); offset <= Math.Min(to, offsets.Max); offset++)
            {
                if (offsets.Contains(offset))
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <summary>The highest acknowledged offset of the channel's epoch (0: none).</summary>
    public long Top(string channel, string epoch)
    {
        lock (_channels)
        {
            return _channels.TryGetValue((channel, epoch), out var offsets) ? offsets.Max : 0;
        }
    }

    /// <summary>A growable bit set of offsets (they start at 1 and stay dense: every publication of a channel is numbered).</summary>
    private sealed class Offsets
    {
        private ulong[] _bits = new ulong[16];

        public long Max { get; private set; }

        public void Add(long offset)
        {
            long word = offset >> 6;
            if (word >= _bits.Length)
            {
                Array.Resize(ref _bits, (int)Math.Max(word + 1, _bits.Length * 2L));
            }

            _bits[word] |= 1UL << (int)(offset & 63);
            Max = Math.Max(Max, offset);
        }

        public bool Contains(long offset) => offset >= 0 && (offset >> 6) < _bits.Length && (_bits[offset >> 6] & (1UL << (int)(offset & 63))) != 0;
    }
}
