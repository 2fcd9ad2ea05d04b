using System.Net;
using System.Text.Json;
using Broker.Sessions.Redis.Internal;
using StackExchange.Redis;

namespace Broker.Sessions.Redis;

/// <summary>
/// An <see cref="ITicketStore"/> in Redis, shared by every node of a cluster: a ticket issued on one node is
/// consumed once, on any node.
/// </summary>
/// <remarks>
/// <para>
/// A ticket is a string at <c>&lt;prefix&gt;:tickets:&lt;SHA-256 of the ticket text&gt;</c> (the text itself is never
/// stored) holding its entry as JSON, written with <c>SET … PX &lt;ttl&gt; NX</c>: Redis forgets it on its own when
/// it expires, so <see cref="PurgeExpired"/> has nothing to do. <see cref="TryTake"/> is one script that gets
/// and deletes the key, atomic on the server, so of any number of racing consumers on any nodes exactly one
/// gets the entry.
/// </para>
/// <para><see cref="Count"/> is <see langword="null"/>: counting would take a scan of the key space.</para>
/// <para>
/// Every call goes through <see cref="RedisStoreCalls"/>: an unreachable Redis is
/// <see cref="SessionStoreUnavailableException"/>. A take that timed out may still have run on a stalled Redis once it
/// resumed: the ticket is then burnt, and the client, told <c>unavailable</c>, fetches a new one.
/// </para>
/// </remarks>
public sealed class RedisTicketStore : ITicketStore
{
    // The key outlives the grant by this much, so a ticket presented just after its expiry is still found and
    // reported as expired (as on one node), and a small clock difference between nodes cannot make a
    // still-valid ticket vanish first. The grant's own expiry is what decides.
    private static readonly TimeSpan ExpiryGrace = TimeSpan.FromSeconds(5);

    // GET then DEL in one script: what GETDEL does, but GETDEL needs Redis 6.2 and PROTOCOL.md promises the
    // cluster on Redis 5.0. A script runs atomically, so two nodes taking the same ticket cannot both get it.
    private const string TakeScript = """
        local entry = redis.call('GET', KEYS[1])
        if entry then redis.call('DEL', KEYS[1]) end
        return entry
        """;

    private readonly RedisStoreCalls _calls;
    private readonly RedisKeys _keys;

    /// <summary>Creates the store on a connection, with keys under <paramref name="prefix"/>.</summary>
    /// <param name="redis">The process's shared connection.</param>
    /// <param name="prefix"><c>Broker:Redis:Prefix</c>.</param>
    public RedisTicketStore(IConnectionMultiplexer redis, string prefix)
        : this(new RedisStoreCalls(redis, isReachable: null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System), prefix)
    {
    }

    /// <summary>Creates the store on the shared calls (the composition's: they know the engine's view of Redis and log).</summary>
    internal RedisTicketStore(RedisStoreCalls calls, string prefix)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        _calls = calls;
        _keys = new RedisKeys(prefix);
    }

    /// <inheritdoc />
    public int? Count => null;

    /// <inheritdoc />
    public bool TryAdd(string ticket, TicketEntry entry, TimeSpan ttl)
    {
        var key = _keys.Ticket(ticket);
        var value = Serialize(entry);
        return _calls.Run(db => db.StringSet(key, value, ttl + ExpiryGrace, When.NotExists));
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryAddAsync(string ticket, TicketEntry entry, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        await _calls.AwaitAsync(_calls.Database.StringSetAsync(_keys.Ticket(ticket), Serialize(entry), ttl + ExpiryGrace, When.NotExists), cancellationToken);

    /// <inheritdoc />
    public TicketEntry? TryTake(string ticket)
    {
        var key = _keys.Ticket(ticket);
        return Deserialize((RedisValue)_calls.Run(db => db.ScriptEvaluate(TakeScript, [key])));
    }

    /// <inheritdoc />
    public async ValueTask<TicketEntry?> TryTakeAsync(string ticket, CancellationToken cancellationToken = default) =>
        Deserialize((RedisValue)await _calls.AwaitAsync(_calls.Database.ScriptEvaluateAsync(TakeScript, [_keys.Ticket(ticket)]), cancellationToken));

    /// <inheritdoc />
    public int PurgeExpired(DateTimeOffset now) => 0;

    private static byte[] Serialize(TicketEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var grant = entry.Grant;
        var claims = grant.Claims.Count == 0 ? null
            : grant.Claims as Dictionary<string, string> ?? new Dictionary<string, string>(grant.Claims, StringComparer.Ordinal);
        var record = new RedisTicketRecord(grant.SessionId, grant.UserId, claims, grant.ExpiresAt, entry.BoundIp?.ToString());
        return JsonSerializer.SerializeToUtf8Bytes(record, RedisSessionsJsonContext.Default.RedisTicketRecord);
    }

    private static TicketEntry? Deserialize(RedisValue value)
    {
        if (value.IsNull)
        {
            return null;
        }

        var record = JsonSerializer.Deserialize((byte[])value!, RedisSessionsJsonContext.Default.RedisTicketRecord);
        if (record is null)
        {
            return null;
        }

        IReadOnlyDictionary<string, string> claims = record.Claims is { Count: > 0 } ? record.Claims : BrokerSession.NoClaims;
        return new TicketEntry(
            new TicketGrant(record.SessionId, record.UserId, claims, record.ExpiresAt),
            record.BoundIp is null ? null : IPAddress.Parse(record.BoundIp));
    }
}
