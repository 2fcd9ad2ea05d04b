using System.Buffers;

namespace Broker.Core;

/// <summary>The name rules of PROTOCOL.md ("Terms"): channels, namespaces, events, personal channels.</summary>
public static class ChannelNames
{
    /// <summary>Longest channel name, in bytes (the allowed characters are ASCII, so also in chars).</summary>
    public const int MaxChannelLength = 255;

    /// <summary>Longest event name, in bytes.</summary>
    public const int MaxEventLength = 64;

    /// <summary>The event of a publication that names none.</summary>
    public const string DefaultEvent = "message";

    /// <summary>Prefix of a session's personal channel.</summary>
    public const string SessionPrefix = "$session:";

    /// <summary>Prefix of a user's personal channel.</summary>
    public const string UserPrefix = "$user:";

    /// <summary>The broker's stats feed: a snapshot a second, for the dashboard (docs/protocol.md, "Dashboard").</summary>
    public const string BrokerStats = "$broker:stats";

    /// <summary>The namespace of <see cref="BrokerStats"/>.</summary>
    public const string BrokerNamespace = "$broker";

    // SearchValues vectorises the "any char outside the set?" scan; names are checked on every request.
    private static readonly SearchValues<char> ChannelChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-:@#/=");

    private static readonly SearchValues<char> EventChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-:");

    /// <summary>Reads what kind of channel <paramref name="channel"/> names; <see cref="ChannelKind.Invalid"/> when it breaks a rule.</summary>
    public static ChannelKind Classify(ReadOnlySpan<char> channel)
    {
        if (channel.IsEmpty || channel.Length > MaxChannelLength)
        {
            return ChannelKind.Invalid;
        }

        if (channel[0] != '$')
        {
            return channel.ContainsAnyExcept(ChannelChars) ? ChannelKind.Invalid : ChannelKind.Regular;
        }

        if (channel.SequenceEqual(BrokerStats))
        {
            return ChannelKind.BrokerStats;
        }

        // Names starting with '$' are reserved: the two personal kinds, each with a non-empty id, and the stats feed.
        if (channel.StartsWith(SessionPrefix, StringComparison.Ordinal))
        {
            return IsValidId(channel[SessionPrefix.Length..]) ? ChannelKind.Session : ChannelKind.Invalid;
        }

        if (channel.StartsWith(UserPrefix, StringComparison.Ordinal))
        {
            return IsValidId(channel[UserPrefix.Length..]) ? ChannelKind.User : ChannelKind.Invalid;
        }

        return ChannelKind.Invalid;
    }

    /// <summary>True when <paramref name="eventName"/> is 1-64 characters of <c>[A-Za-z0-9_.\-:]</c>.</summary>
    public static bool IsValidEvent(ReadOnlySpan<char> eventName) =>
        !eventName.IsEmpty && eventName.Length <= MaxEventLength && !eventName.ContainsAnyExcept(EventChars);

    /// <summary>
    /// True when <paramref name="id"/> can follow <c>$session:</c> or <c>$user:</c>: non-empty, of the
    /// channel characters, and short enough that the personal channel fits in 255 bytes.
    /// </summary>
    public static bool IsValidId(ReadOnlySpan<char> id) =>
        !id.IsEmpty && id.Length <= MaxChannelLength - SessionPrefix.Length && !id.ContainsAnyExcept(ChannelChars);

    /// <summary>
    /// The namespace of <paramref name="channel"/>: the text before the first <c>:</c>, or empty for the
    /// default namespace. Personal channels have the namespaces <c>$session</c> and <c>$user</c>.
    /// </summary>
    public static ReadOnlySpan<char> GetNamespace(ReadOnlySpan<char> channel)
    {
        int colon = channel.IndexOf(':');
        return colon < 0 ? ReadOnlySpan<char>.Empty : channel[..colon];
    }

    /// <summary>The personal channel of a session.</summary>
    public static string ForSession(string sessionId) => SessionPrefix + sessionId;

    /// <summary>The personal channel of a user.</summary>
    public static string ForUser(string userId) => UserPrefix + userId;

    /// <summary>The channel name rule as error messages state it (PROTOCOL.md, "Terms").</summary>
    public const string ChannelRule =
        "A channel name is 1-255 characters of A-Z, a-z, 0-9 and _ . - : @ # / =, optionally 'namespace:name'; names starting with '$' are the broker's.";

    /// <summary>The event name rule as error messages state it.</summary>
    public const string EventRule = "An event name is 1-64 characters of A-Z, a-z, 0-9 and _ . - :.";

    /// <summary>The prefix rule as error messages state it.</summary>
    public const string PrefixRule = "A prefix is the start of a channel name followed by '*' ('chat:*'), or '*' alone.";

    /// <summary>The error message for a name that is not a channel name: the name, then the rule.</summary>
    public static string NotAChannel(string name) => $"'{Shorten(name)}' is not a channel name. {ChannelRule}";

    /// <summary>The error message for a name that is not an event name: the name, then the rule.</summary>
    public static string NotAnEvent(string name) => $"'{Shorten(name)}' is not an event name. {EventRule}";

    /// <summary>The error message for an entry that is not a channel prefix: the entry, then the rule.</summary>
    public static string NotAPrefix(string entry) => $"'{Shorten(entry)}' is not a channel prefix. {PrefixRule}";

    /// <summary>
    /// A name as error messages quote it: cut to 64 characters, since a bad name may be as long as the
    /// message that carried it.
    /// </summary>
    public static string Shorten(string name) => name.Length <= 64 ? name : string.Concat(name.AsSpan(0, 61), "...");
}
