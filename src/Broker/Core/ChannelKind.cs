namespace Broker.Core;

/// <summary>What a channel name is, as <see cref="ChannelNames.Classify"/> reads it.</summary>
public enum ChannelKind
{
    /// <summary>Not a channel name: empty, too long, a character outside the allowed set, or a reserved <c>$</c> name the broker does not define.</summary>
    Invalid,

    /// <summary>An ordinary channel, <c>namespace:name</c> or <c>name</c>.</summary>
    Regular,

    /// <summary>A session's personal channel, <c>$session:&lt;sessionId&gt;</c>.</summary>
    Session,

    /// <summary>A user's personal channel, <c>$user:&lt;userId&gt;</c>.</summary>
    User,

    /// <summary>The broker's own stats feed, <c>$broker:stats</c> (the dashboard's channel; only the broker publishes).</summary>
    BrokerStats,
}
