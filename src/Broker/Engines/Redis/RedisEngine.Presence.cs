using Broker.Engines.Redis.Internal;
using StackExchange.Redis;

namespace Broker.Engines.Redis;

/// <summary>
/// Presence across nodes. Each channel keeps members summed over nodes, users summed over nodes (for
/// join/leave), and per node what that node holds; each node beats in <c>nodes</c> and lists the
/// channels where it holds presence. A node whose beat is late by <see cref="RedisEngineOptions.NodeTimeout"/>
/// is claimed by a live node, which removes what the dead one held, publishing the leaves.
/// This node also remembers its own presence, to restore it if the cluster took it for dead.
/// </summary>
public sealed partial class RedisEngine
{
    /// <summary>Separates session and user in a member field (a control character: ids never hold it).</summary>
    private const char MemberSeparator = '\u001F';

    /// <summary>Dead nodes cleaned per heartbeat by one node: bounds a beat's work after a mass failure.</summary>
    private const int DeadNodesPerBeat = 16;

    // channel → member field → connections on this node. Guarded by itself.
    private readonly Dictionary<string, Dictionary<string, int>> _localPresence = new(StringComparer.Ordinal);

    // Leaves that could not reach Redis, applied by the heartbeat once it is back.
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Channel, string Field, string? User)> _pendingLeaves = new();

    /// <inheritdoc/>
    public async ValueTask JoinAsync(string channel, ClientInfo member, CancellationToken cancellationToken)
    {
        var field = MemberField(member);
        ThrowIfUnavailable();
        bool firstHere = ChangeLocal(channel, field, +1);
        try
        {
            if (firstHere)
            {
                await _db.SetAddAsync(_keys.ChannelsOfNode(_keys.NodeId), channel).WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            var frame = await EvaluateAsync(RedisScripts.Join, PresenceKeys(channel, _keys.NodeId), PresenceArgs(channel, field, member.UserId, 1), cancellationToken).ConfigureAwait(false);
            DeliverLocally(channel, frame);
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e) || e is EngineUnavailableException)
        {
            ChangeLocal(channel, field, -1);
            throw e as EngineUnavailableException ?? Unavailable(e);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Never fails for an unreachable Redis: the leave is counted here at once and applied in Redis when it is back.</remarks>
    public async ValueTask LeaveAsync(string channel, ClientInfo member, CancellationToken cancellationToken)
    {
        var field = MemberField(member);
        lock (_localPresence)
        {
            if (!_localPresence.TryGetValue(channel, out var members) || !members.ContainsKey(field))
            {
                return;  // not a member here: a leave without its join is ignored
            }
        }

        ChangeLocal(channel, field, -1);
        try
        {
            var frame = await EvaluateAsync(RedisScripts.Leave, PresenceKeys(channel, _keys.NodeId), PresenceArgs(channel, field, member.UserId, 1), cancellationToken).ConfigureAwait(false);
            DeliverLocally(channel, frame);
        }
        catch (EngineUnavailableException)
        {
            // A socket that closes while Redis is away must still leave: kept here and applied by the next
            // heartbeat that finds Redis back (a reply lost in a timeout may then apply it twice, which
            // only makes the member leave one connection early).
            _pendingLeaves.Enqueue((channel, field, member.UserId));
            RedisEngineLog.LeaveDeferred(_logger, channel);
        }
    }

    /// <summary>Applies the leaves that found Redis unreachable, oldest first; stops at the first that fails again.</summary>
    private async Task ApplyPendingLeavesAsync()
    {
        while (_pendingLeaves.TryPeek(out var leave))
        {
            var frame = await _db.ScriptEvaluateAsync(RedisScripts.Leave, PresenceKeys(leave.Channel, _keys.NodeId), PresenceArgs(leave.Channel, leave.Field, leave.User, 1)).ConfigureAwait(false);
            _pendingLeaves.TryDequeue(out _);
            DeliverLocally(leave.Channel, frame);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<PresenceEntry>> GetPresenceAsync(string channel, CancellationToken cancellationToken)
    {
        ThrowIfUnavailable();
        HashEntry[] entries;
        try
        {
            entries = await _db.HashGetAllAsync(_keys.Presence(channel)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            throw Unavailable(e);
        }

        var result = new List<PresenceEntry>(entries.Length);
        foreach (var entry in entries)
        {
            var field = (string)entry.Name!;
            int separator = field.IndexOf(MemberSeparator, StringComparison.Ordinal);
            var session = separator < 0 ? field : field[..separator];
            var user = separator < 0 ? null : field[(separator + 1)..];
            result.Add(new PresenceEntry(session, user, (int)entry.Value));
        }

        return result;
    }

    private static string MemberField(ClientInfo member)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (member.SessionId is not { } session)
        {
            throw new ArgumentException("A presence member needs a session id.", nameof(member));
        }

        return member.UserId is { } user ? string.Concat(session, MemberSeparator.ToString(), user) : session;
    }

    private RedisKey[] PresenceKeys(string channel, string node) =>
        [_keys.Presence(channel), _keys.PresenceUsers(channel), _keys.PresenceOfNode(channel, node), _keys.Meta(channel)];

    private RedisValue[] PresenceArgs(string channel, string field, string? user, int count) =>
        [field, user ?? string.Empty, user is null ? 0 : 1, _keys.PubSubName(channel), count];

    /// <summary>Counts a connection in or out of this node's own record; true when the channel's first here.</summary>
    private bool ChangeLocal(string channel, string field, int by)
    {
        lock (_localPresence)
        {
            if (!_localPresence.TryGetValue(channel, out var members))
            {
                members = new Dictionary<string, int>(StringComparer.Ordinal);
                _localPresence.Add(channel, members);
            }

            bool first = members.Count == 0;
            int count = members.GetValueOrDefault(field) + by;
            if (count > 0)
            {
                members[field] = count;
            }
            else
            {
                members.Remove(field);
                if (members.Count == 0)
                {
                    _localPresence.Remove(channel);
                }
            }

            return first && by > 0;
        }
    }

    private async Task RegisterNodeAsync()
    {
        var result = (long)await _db.ScriptEvaluateAsync(RedisScripts.Heartbeat, [_keys.Nodes], [_keys.NodeId, NodeDeadline()]).ConfigureAwait(false);
        if (result == 0)
        {
            throw new InvalidOperationException("A fresh node id was claimed as dead.");
        }
    }

    private long NodeDeadline() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)_options.NodeTimeout.TotalMilliseconds;

    private async Task HeartbeatLoopAsync()
    {
        var token = _stopping.Token;
        // A sixth of the timeout: five beats may be lost before the node counts as dead.
        var interval = _options.NodeTimeout / 6;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, token).ConfigureAwait(false);
                foreach (var shard in _shards)
                {
                    shard.Enqueue(new DeliveryItem(DeliveryKind.Sweep, string.Empty));
                }

                if (!IsHealthy)
                {
                    continue;
                }

                await BeatAsync().ConfigureAwait(false);
                await ApplyPendingLeavesAsync().ConfigureAwait(false);
                await CleanDeadNodesAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException or EngineUnavailableException)
            {
                RedisEngineLog.HeartbeatFailed(_logger, e);
            }
        }
    }

    private async Task BeatAsync()
    {
        var result = (long)await _db.ScriptEvaluateAsync(RedisScripts.Heartbeat, [_keys.Nodes], [_keys.NodeId, NodeDeadline()]).ConfigureAwait(false);
        if (result == 1)
        {
            return;
        }

        // Claimed as dead (or Redis lost the registry): what we held may be being removed right now, so
        // come back under a new id, which nobody is cleaning, and restore our presence there.
        var old = _keys.NodeId;
        _keys = new RedisKeys(_options.Prefix, NewId());
        _pendingLeaves.Clear();  // the restore below writes what this node holds now, leaves included
        await RegisterNodeAsync().ConfigureAwait(false);
        await EnsureNodeChannelSubscribedAsync().ConfigureAwait(false);
        List<(string Channel, string Field, int Count)> held = [];
        lock (_localPresence)
        {
            foreach (var (channel, members) in _localPresence)
            {
                foreach (var (field, count) in members)
                {
                    held.Add((channel, field, count));
                }
            }
        }

        var channels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (channel, field, count) in held)
        {
            if (channels.Add(channel))
            {
                await _db.SetAddAsync(_keys.ChannelsOfNode(_keys.NodeId), channel).ConfigureAwait(false);
            }

            int separator = field.IndexOf(MemberSeparator, StringComparison.Ordinal);
            var user = separator < 0 ? null : field[(separator + 1)..];
            await _db.ScriptEvaluateAsync(RedisScripts.Join, PresenceKeys(channel, _keys.NodeId), PresenceArgs(channel, field, user, count)).ConfigureAwait(false);
        }

        RedisEngineLog.NodeReregistered(_logger, old, _keys.NodeId, channels.Count);
    }

    private async Task CleanDeadNodesAsync()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Dead: a deadline in the past (0..now), or a claim whose lease ran out (-now..0).
        var dead = await _db.SortedSetRangeByScoreAsync(_keys.Nodes, -now, now, take: DeadNodesPerBeat).ConfigureAwait(false);
        foreach (var node in dead)
        {
            var id = (string)node!;
            if (id == _keys.NodeId)
            {
                continue;
            }

            long lease = now + (long)_options.NodeTimeout.TotalMilliseconds;
            if ((long)await _db.ScriptEvaluateAsync(RedisScripts.ClaimDeadNode, [_keys.Nodes], [id, now, lease]).ConfigureAwait(false) == 1)
            {
                int channels = await DropNodeAsync(id).ConfigureAwait(false);
                RedisEngineLog.NodeExpired(_logger, id, channels);
            }
        }
    }

    /// <summary>Removes everything <paramref name="node"/> held, with the leaves, and the node itself.</summary>
    private async Task<int> DropNodeAsync(string node)
    {
        var channels = await _db.SetMembersAsync(_keys.ChannelsOfNode(node)).ConfigureAwait(false);
        foreach (var value in channels)
        {
            var channel = (string)value!;
            await _db.ScriptEvaluateAsync(RedisScripts.DropNode, PresenceKeys(channel, node), [_keys.PubSubName(channel)]).ConfigureAwait(false);
        }

        await _db.KeyDeleteAsync(_keys.ChannelsOfNode(node)).ConfigureAwait(false);
        await _db.SortedSetRemoveAsync(_keys.Nodes, node).ConfigureAwait(false);
        return channels.Length;
    }

    /// <summary>A clean stop: this node's members leave now rather than after the timeout.</summary>
    private async Task LeaveClusterAsync()
    {
        try
        {
            await DropNodeAsync(_keys.NodeId).WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            RedisEngineLog.HeartbeatFailed(_logger, e);
        }
    }
}
