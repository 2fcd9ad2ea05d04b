using Broker.Core;
namespace Broker.Core.Internal;

/// <summary>
/// A backend's interest in every channel that starts with one of <see cref="Prefixes"/> (the
/// <c>chat:*</c> entries of a gRPC <c>Subscribe</c>). Live from registration, with no position to
/// resume from (PROTOCOL.md). A channel the same stream also subscribes to exactly is left to that
/// exact <see cref="Subscription"/>, so a publication several entries match comes once.
/// </summary>
internal sealed class PrefixSubscription
{
    private readonly string[] _prefixes;
    private readonly HashSet<string> _exact;

    /// <summary>Creates the subscription for <paramref name="entries"/> (each ending in <c>*</c>), excluding <paramref name="exactChannels"/>.</summary>
    public PrefixSubscription(IEnumerable<string> entries, IEnumerable<string> exactChannels, SubscriberQueue queue)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var prefixes = new List<string>();
        foreach (var entry in entries)
        {
            if (!entry.EndsWith('*'))
            {
                throw new ArgumentException($"'{entry}' is not a prefix entry (it must end in '*').", nameof(entries));
            }

            prefixes.Add(entry[..^1]);
        }

        Entries = [.. entries];
        _prefixes = [.. prefixes];
        _exact = new HashSet<string>(exactChannels, StringComparer.Ordinal);
        Queue = queue;
    }

    /// <summary>The entries as given, <c>*</c> included.</summary>
    public IReadOnlyList<string> Entries { get; }

    /// <summary>The prefixes, <c>*</c> removed.</summary>
    public IReadOnlyList<string> Prefixes => _prefixes;

    /// <summary>Where matching publications go.</summary>
    public SubscriberQueue Queue { get; }

    /// <summary>True when <paramref name="channel"/> starts with a prefix and is not one of the stream's exact channels.</summary>
    public bool Matches(string channel)
    {
        foreach (var prefix in _prefixes)
        {
            if (channel.StartsWith(prefix, StringComparison.Ordinal))
            {
                return !_exact.Contains(channel);
            }
        }

        return false;
    }
}
