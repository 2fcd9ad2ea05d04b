using StackExchange.Redis;

namespace Broker.Engines.Redis.Internal;

/// <summary>
/// The names of every Redis key and pub/sub channel the engine uses (docs/cluster.md lists them).
/// A channel's keys all carry the hash tag <c>{channel}</c>, so in Redis Cluster they live in one slot
/// and one Lua script may touch them all. Channel names cannot hold braces (PROTOCOL.md), so the tag is exact.
/// </summary>
internal sealed class RedisKeys(string prefix, string nodeId)
{
    public string Prefix { get; } = prefix;

    public string NodeId { get; } = nodeId;

    /// <summary>Hash: <c>e</c> epoch, <c>o</c> newest offset, <c>t</c> history TTL in ms (for readers).</summary>
    public RedisKey Meta(string channel) => $"{Prefix}:{{{channel}}}:meta";

    /// <summary>Stream of kept publications; entry id <c>offset-0</c>, fields <c>t</c> (ms) and <c>b</c> (body).</summary>
    public RedisKey Stream(string channel) => $"{Prefix}:{{{channel}}}:stream";

    /// <summary>String <c>"expiresMs offset epoch"</c>: the first publication made with an idempotency key.</summary>
    public RedisKey Idempotency(string channel, string key) => $"{Prefix}:{{{channel}}}:idem:{key}";

    /// <summary>Hash member → connections, summed over nodes: what <c>presence</c> answers.</summary>
    public RedisKey Presence(string channel) => $"{Prefix}:{{{channel}}}:presence";

    /// <summary>Hash user → connections, summed over nodes: decides <c>join</c> (first) and <c>leave</c> (last).</summary>
    public RedisKey PresenceUsers(string channel) => $"{Prefix}:{{{channel}}}:presence:users";

    /// <summary>Hash member → connections held by one node: what leaves when that node dies.</summary>
    public RedisKey PresenceOfNode(string channel, string node) => $"{Prefix}:{{{channel}}}:presence:node:{node}";

    /// <summary>Sorted set node → heartbeat deadline (Unix ms): the cluster's live nodes.</summary>
    public RedisKey Nodes => $"{Prefix}:nodes";

    /// <summary>Set of channels where <paramref name="node"/> holds presence: what to clean when it dies.</summary>
    public RedisKey ChannelsOfNode(string node) => $"{Prefix}:node:{node}:channels";

    /// <summary>The pub/sub channel of a channel's publications and presence events.</summary>
    public RedisChannel PubSub(string channel) => RedisChannel.Literal(PubSubName(channel));

    public string PubSubName(string channel) => $"{Prefix}:pub:{{{channel}}}";

    /// <summary>
    /// The pub/sub pattern of a channel prefix (<c>chat:*</c> → <c>broker:pub:{chat:*}</c>). The
    /// prefix's own glob characters are escaped; valid channel names hold none, so this is defensive.
    /// </summary>
    public RedisChannel PubSubPattern(string channelPrefix)
    {
        var stem = channelPrefix.AsSpan(0, channelPrefix.Length - 1);  // without the trailing '*'
        var escaped = new System.Text.StringBuilder(stem.Length + 8);
        foreach (char c in stem)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return RedisChannel.Pattern($"{Prefix}:pub:{{{escaped}*}}");
    }

    /// <summary>
    /// The pub/sub channel of <paramref name="node"/>: control messages from other nodes, and the node's own
    /// liveness probes (one subscription for both, so a probe that comes back proves the control path too).
    /// </summary>
    public RedisChannel NodeChannel(string node) => RedisChannel.Literal($"{Prefix}:node:{node}:control");

    /// <summary>The channel a pub/sub channel name carries, or null when it is not one of ours.</summary>
    public string? ChannelOf(string pubSubName)
    {
        // "<prefix>:pub:{" … "}"
        int start = Prefix.Length + 6;
        if (pubSubName.Length <= start || !pubSubName.StartsWith(Prefix, StringComparison.Ordinal)
            || !pubSubName.AsSpan(Prefix.Length).StartsWith(":pub:{", StringComparison.Ordinal) || pubSubName[^1] != '}')
        {
            return null;
        }

        return pubSubName.Substring(start, pubSubName.Length - start - 1);
    }
}
