using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using Broker.Engines.InMemory.Internal;

namespace Broker.Engines.InMemory;

/// <summary>
/// The embedded engine of a single broker: channels, numbering, history, idempotency keys and presence
/// in this process's memory. Publishing numbers the publication, keeps it and hands it to the fan-out
/// under the channel's lock, which is what orders a channel's deliveries; channels never share a lock.
/// </summary>
/// <remarks>
/// A channel's state is forgotten once nobody is subscribed, it keeps no history, holds no presence or
/// idempotency key, and has been idle for its namespace's <c>HistoryTtl</c> (as the last publish gave it). Publishing to it again
/// starts a new epoch at offset 1; a client that comes back with the old epoch gets <c>recovered:false</c>.
/// The same happens to every channel when the process restarts: each state gets a fresh random epoch.
/// </remarks>
public sealed class InMemoryEngine : IEngine
{
    /// <summary>How often idle channels are looked for. 30 s keeps the sweep's cost negligible next to its memory gain.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    private static readonly IReadOnlyList<Publication> None = Array.Empty<Publication>();

    // ConcurrentDictionary reads take no lock and its writes lock one of 64 stripes: a publish touches
    // no global lock, only its own channel's.
    private readonly ConcurrentDictionary<string, MemoryChannel> _channels = new(concurrencyLevel: 64, capacity: 1024, StringComparer.Ordinal);
    private readonly TimeProvider _time;

    // Control messages to this node itself, handed to the handler by one loop: in send order, and never
    // on the sender's stack (a sender may hold a lock the handler takes).
    private readonly Channel<ReadOnlyMemory<byte>> _control = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true });
    private IEngineHandler? _handler;
    private ITimer? _sweeper;
    private Task? _controlLoop;

    /// <summary>Creates the engine.</summary>
    public InMemoryEngine(TimeProvider time)
    {
        _time = time;
        NodeId = NewEpoch();
    }

    /// <inheritdoc/>
    /// <remarks>Random at every start, as a cluster node's: one node alone is its own only node.</remarks>
    public string NodeId { get; }

    /// <summary>Channels currently held (for stats and tests).</summary>
    public int ChannelCount => _channels.Count;

    /// <inheritdoc/>
    public bool IsHealthy => true;

    /// <inheritdoc/>
    public ValueTask StartAsync(IEngineHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
        {
            throw new InvalidOperationException("The engine is already started.");
        }

        _sweeper = _time.CreateTimer(static state => ((InMemoryEngine)state!).Sweep(), this, SweepInterval, SweepInterval);
        _controlLoop = Task.Run(RunControlAsync, CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<string>> GetNodesAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<string>>([NodeId]);

    /// <inheritdoc/>
    public ValueTask<bool> SendControlAsync(string node, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        // The one node there is: anything else names no live node. A copy, as a wire would make: the
        // sender may reuse its buffer.
        bool delivered = string.Equals(node, NodeId, StringComparison.Ordinal) && _control.Writer.TryWrite(message.ToArray());
        return ValueTask.FromResult(delivered);
    }

    /// <inheritdoc/>
    public ValueTask<PublishResult> PublishAsync(PublishCommand command, CancellationToken cancellationToken)
    {
        var handler = _handler ?? throw new InvalidOperationException("The engine is not started.");
        while (true)
        {
            var channel = GetOrAdd(command.Channel);
            lock (channel)
            {
                if (channel.Removed)
                {
                    continue;  // swept between lookup and lock: look it up again
                }

                var now = _time.GetUtcNow();
                channel.LastUsed = now;
                if (command.IdempotencyKey is { } key && channel.Keys is { } keys && keys.TryGet(key, now, out var first))
                {
                    return ValueTask.FromResult(new PublishResult(first, Duplicate: true));
                }

                if (command.History.Size > 0)
                {
                    // The first publish that asks for history sizes the ring: every node reads the same
                    // namespace settings, so later publishes ask for the same.
                    channel.History ??= new HistoryRing(command.History.Size, command.History.Ttl);
                }

                if (command.History.Ttl > TimeSpan.Zero)
                {
                    channel.IdleTtl = command.History.Ttl;
                }

                channel.Offset++;
                var publication = new Publication(command.Channel, command.Event, command.Data, channel.Position, now, command.From);
                if (channel.History is { } history)
                {
                    history.Expire(now);
                    history.Append(publication);
                }

                if (command.IdempotencyKey is { } newKey)
                {
                    (channel.Keys ??= new IdempotencyKeys()).Add(newKey, publication.Position, now + IEngine.IdempotencyWindow);
                }

                // Fan-out under the channel's lock is what keeps a channel's offsets in order for every
                // subscriber; it only queues (TryWrite), so the lock is held for no I/O.
                handler.OnPublication(publication);
                return ValueTask.FromResult(new PublishResult(publication.Position, Duplicate: false));
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<HistoryResult> ReadHistoryAsync(string channelName, HistoryQuery query, CancellationToken cancellationToken)
    {
        while (true)
        {
            var channel = GetOrAdd(channelName);
            lock (channel)
            {
                if (channel.Removed)
                {
                    continue;
                }

                var now = _time.GetUtcNow();
                channel.LastUsed = now;
                var history = channel.History;
                history?.Expire(now);
                int limit = query.Limit ?? int.MaxValue;
                var position = channel.Position;
                if (query.Since is not { } since)
                {
                    var last = history is null || limit == 0 ? None : history.Last(limit);
                    return ValueTask.FromResult(new HistoryResult(last, position, Recovered: false));
                }

                if (string.Equals(since.Epoch, channel.Epoch, StringComparison.Ordinal) && since.Offset <= channel.Offset)
                {
                    if (since.Offset == channel.Offset)
                    {
                        return ValueTask.FromResult(new HistoryResult(None, position, Recovered: true));
                    }

                    // Recoverable when the first publication after `since` is still kept.
                    if (history is not null && history.Count > 0 && history.OldestOffset <= since.Offset + 1)
                    {
                        var after = limit == 0 ? None : history.After(since.Offset, limit);
                        return ValueTask.FromResult(new HistoryResult(after, position, Recovered: true));
                    }
                }

                // Too old, from another epoch, or ahead of the channel: what is kept, from the oldest.
                var kept = history is null || limit == 0 ? None : history.After(0, limit);
                return ValueTask.FromResult(new HistoryResult(kept, position, Recovered: false));
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask SubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken)
    {
        // Every publication reaches the handler in this engine, so interest only keeps a channel's
        // state (and its epoch) alive while someone listens. Prefixes need no state.
        if (!IsPrefix(channelOrPrefix))
        {
            Update(channelOrPrefix, static c => c.Interest++);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask UnsubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken)
    {
        if (!IsPrefix(channelOrPrefix))
        {
            Update(channelOrPrefix, static c => c.Interest = Math.Max(0, c.Interest - 1));
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask JoinAsync(string channel, ClientInfo member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        ChangePresence(channel, member, joined: true);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask LeaveAsync(string channel, ClientInfo member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        ChangePresence(channel, member, joined: false);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<PresenceEntry>> GetPresenceAsync(string channel, CancellationToken cancellationToken)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            return ValueTask.FromResult<IReadOnlyList<PresenceEntry>>(Array.Empty<PresenceEntry>());
        }

        lock (state)
        {
            IReadOnlyList<PresenceEntry> entries = state.Presence is { } presence ? presence.Snapshot() : Array.Empty<PresenceEntry>();
            return ValueTask.FromResult(entries);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _sweeper?.Dispose();
        _control.Writer.TryComplete();
        if (_controlLoop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }
    }

    /// <summary>Forgets idle channels (see the class remarks). Runs on a timer; public for tests.</summary>
    public void Sweep()
    {
        var now = _time.GetUtcNow();
        foreach (var entry in _channels)
        {
            var channel = entry.Value;
            lock (channel)
            {
                channel.History?.Expire(now);
                channel.Keys?.Prune(now);
                if (channel.IsIdle(now))
                {
                    channel.Removed = true;
                    _channels.TryRemove(entry);
                }
            }
        }
    }

    private async Task RunControlAsync()
    {
        var reader = _control.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                try
                {
                    _handler!.OnControl(NodeId, message);
                }
                catch (Exception)
                {
                    // The handler's fault (the core logs its own): the node's control path goes on.
                }
            }
        }
    }

    private void ChangePresence(string channelName, ClientInfo member, bool joined)
    {
        if (member.SessionId is not { } sessionId)
        {
            throw new ArgumentException("A presence member needs a session id.", nameof(member));
        }

        while (true)
        {
            var channel = GetOrAdd(channelName);
            lock (channel)
            {
                if (channel.Removed)
                {
                    continue;
                }

                channel.LastUsed = _time.GetUtcNow();
                var presence = channel.Presence ??= new PresenceSet();
                bool changed = joined ? presence.Add(sessionId, member.UserId) : presence.Remove(sessionId, member.UserId);
                if (changed)
                {
                    _handler?.OnPresence(new PresenceEvent(channelName, joined, member.UserId!));
                }

                return;
            }
        }
    }

    private void Update(string channelName, Action<MemoryChannel> change)
    {
        while (true)
        {
            var channel = GetOrAdd(channelName);
            lock (channel)
            {
                if (channel.Removed)
                {
                    continue;
                }

                change(channel);
                channel.LastUsed = _time.GetUtcNow();
                return;
            }
        }
    }

    private MemoryChannel GetOrAdd(string name)
    {
        if (_channels.TryGetValue(name, out var channel))
        {
            return channel;
        }

        return _channels.GetOrAdd(name, static n => new MemoryChannel(n, NewEpoch()));
    }

    private static bool IsPrefix(string channelOrPrefix) => channelOrPrefix.EndsWith('*');

    /// <summary>A fresh epoch: 48 random bits, 8 URL-safe characters. Collisions only matter per channel.</summary>
    private static string NewEpoch()
    {
        Span<byte> bytes = stackalloc byte[6];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }
}
