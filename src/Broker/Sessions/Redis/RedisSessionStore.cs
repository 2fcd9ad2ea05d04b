using System.Globalization;
using System.Text.Json;
using Broker.Sessions.Redis.Internal;
using StackExchange.Redis;

namespace Broker.Sessions.Redis;

/// <summary>
/// An <see cref="ISessionStore"/> in Redis, shared by every node of a cluster: a cookie made on one node finds
/// its session on any other.
/// </summary>
/// <remarks>
/// <para>
/// A session is a hash at <c>&lt;prefix&gt;:sessions:id:&lt;sessionId&gt;</c> with the fields <c>created</c> (Unix
/// milliseconds), <c>used</c> (Unix milliseconds of the last use), <c>user</c> (absent: no user), <c>claims</c> (a JSON object, absent: none) and <c>cookie</c> (the
/// SHA-256 of its cookie key, absent: no cookie). A cookie key is found through
/// <c>&lt;prefix&gt;:sessions:cookie:&lt;SHA-256 of the key&gt;</c>, a string holding the session id: the key itself
/// is never stored.
/// </para>
/// <para>
/// Whether a session has expired is decided on the calling node's <see cref="TimeProvider"/> (passed to each
/// script) from <c>created</c> and <c>used</c>, so every node, and a test's clock, agree. Freeing the memory is
/// Redis's own key expiry: both keys carry a TTL of <c>IdleTimeout</c>, cut short at <c>created + Lifetime</c>, set
/// again by every use (a lookup, a bind, <see cref="TouchAsync"/>) in the same script that reads the hash. So Redis
/// holds no session longer than one idle timeout after its last use, with no sweep.
/// </para>
/// <para>
/// Creating, using and binding each run as one script on the session's own key, so a reader sees the whole old
/// record or the whole new one. Every command touches one key, so the store works on Redis Cluster too; the price
/// is that a session and its cookie mapping are written (and their TTLs set) in two steps, as the in-memory store
/// does (a failed second step of a create undoes the first).
/// </para>
/// <para>
/// <c>Broker:Sessions:MaxCount</c> bounds the cluster's sessions, not each node's: a sorted set at
/// <c>&lt;prefix&gt;:sessions:live</c> holds each live session's id scored by when it expires. A create runs one script
/// on it (drop the expired entries, refuse when <c>MaxCount</c> remain, else add) sent together with the create's own
/// script, so the bound costs no round trip of its own; a refused create deletes what it wrote. A use moves the
/// score with a fire-and-forget script (no reply waited for). The set lives as long as its longest-lived entry. A
/// session removed early stays counted until its expiry time at most. The set is one key (one hash slot): every
/// create of the cluster touches it, which Redis does in microseconds.
/// </para>
/// <para>
/// <see cref="Count"/> is <see langword="null"/>: the sessions are the cluster's, not this node's, and
/// <c>/stats</c> is per node.
/// </para>
/// <para>
/// Every call goes through <see cref="RedisStoreCalls"/>: an unreachable Redis is
/// <see cref="SessionStoreUnavailableException"/>, never StackExchange.Redis's own exceptions.
/// </para>
/// </remarks>
public sealed class RedisSessionStore : ISessionStore
{
    // Creates the hash only when the key is new, with its TTL; an empty ARGV means "field absent" (no valid user
    // id or digest is empty).
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'created', ARGV[1], 'used', ARGV[6])
        if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'user', ARGV[2]) end
        if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'claims', ARGV[3]) end
        if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'cookie', ARGV[4]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return 1
        """;

    // One use of a session. Gone (nil, and deleted) when unused for the idle timeout or past its lifetime, both
    // reckoned on the calling node's clock (ARGV[1]) so every node and the tests agree; else it is marked used now,
    // its TTL starts again (the idle timeout, cut at the lifetime), the user is bound when ARGV[4] is set, and the
    // whole hash comes back with the TTL appended as a last pseudo-field, so the caller sets the cookie key's TTL to
    // match. ARGV: now, idle, lifetime (ms), user.
    private const string UseScript = """
        local stamps = redis.call('HMGET', KEYS[1], 'created', 'used')
        if not stamps[1] then return false end
        local now = tonumber(ARGV[1])
        local created = tonumber(stamps[1])
        local used = tonumber(stamps[2] or stamps[1])
        local idle = tonumber(ARGV[2])
        local ttl = created + tonumber(ARGV[3]) - now
        if ttl <= 0 or now >= used + idle then
          redis.call('DEL', KEYS[1])
          return false
        end
        if ttl > idle then ttl = idle end
        redis.call('HSET', KEYS[1], 'used', ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ttl)
        if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'user', ARGV[4]) end
        local fields = redis.call('HGETALL', KEYS[1])
        fields[#fields + 1] = 'ttl'
        fields[#fields + 1] = ttl
        return fields
        """;

    // The cluster-wide bound: drop the entries whose expiry passed, refuse at MaxCount, else add this session scored
    // by its expiry. The set itself lives as long as its longest-lived entry, so Redis holds nothing of an idle
    // cluster's sessions after their idle timeout. ARGV: now, max, expiry (Unix ms), id, ttl (ms).
    private const string ReserveScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
        redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
        return 1
        """;

    // A use moves the session's entry to its new expiry (only if it is counted still), keeping the set alive as long.
    // ARGV: expiry (Unix ms), id, ttl (ms).
    private const string ExtendScript = """
        if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        return 1
        """;

    private const string CreatedField = "created";
    private const string UserField = "user";
    private const string ClaimsField = "claims";
    private const string CookieField = "cookie";
    private const string TtlField = "ttl";

    private readonly RedisStoreCalls _calls;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _time;
    private readonly long _idleMs;
    private readonly long _lifetimeMs;
    private readonly int _maxCount;

    /// <summary>Creates the store on a connection, with keys under <paramref name="prefix"/>, default lifetimes and the system clock.</summary>
    /// <param name="redis">The process's shared connection.</param>
    /// <param name="prefix"><c>Broker:Redis:Prefix</c>.</param>
    public RedisSessionStore(IConnectionMultiplexer redis, string prefix)
        : this(redis, prefix, new SessionStoreOptions(), TimeProvider.System)
    {
    }

    /// <summary>Creates the store on a connection, with keys under <paramref name="prefix"/>.</summary>
    /// <param name="redis">The process's shared connection.</param>
    /// <param name="prefix"><c>Broker:Redis:Prefix</c>.</param>
    /// <param name="options"><c>Broker:Sessions</c>: the idle timeout, the lifetime and the cluster's <c>MaxCount</c>.</param>
    /// <param name="time">The clock lifetimes are reckoned on.</param>
    public RedisSessionStore(IConnectionMultiplexer redis, string prefix, SessionStoreOptions options, TimeProvider time)
        : this(new RedisStoreCalls(redis, isReachable: null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, time ?? TimeProvider.System), prefix, options, time!)
    {
    }

    /// <summary>Creates the store on the shared calls (the composition's: they know the engine's view of Redis and log).</summary>
    internal RedisSessionStore(RedisStoreCalls calls, string prefix, SessionStoreOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _calls = calls;
        _keys = new RedisKeys(prefix);
        _time = time;
        _idleMs = (long)options.IdleTimeout.TotalMilliseconds;
        _lifetimeMs = (long)options.Lifetime.TotalMilliseconds;
        _maxCount = options.MaxCount;
    }

    /// <inheritdoc />
    public long? Count => null;

    /// <inheritdoc />
    public async ValueTask CreateAsync(BrokerSession session, string? cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        var db = _calls.Database;
        var sessionKey = _keys.Session(session.SessionId);
        var created = session.CreatedAt.ToUnixTimeMilliseconds();
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        // At least a millisecond: a session made already past its lifetime (a clock far ahead) is gone at once.
        var ttl = Math.Max(1, Math.Min(_idleMs, created + _lifetimeMs - now));
        var digest = cookieKey is null ? null : RedisKeys.Digest(cookieKey);

        // The bound and the create go out together and are awaited together: the bound adds no round trip.
        var reserve = db.ScriptEvaluateAsync(ReserveScript, [_keys.LiveSessions], [now, _maxCount, now + ttl, session.SessionId, ttl]);
        var create = db.ScriptEvaluateAsync(
            CreateScript,
            [sessionKey],
            [
                created,
                session.UserId ?? string.Empty,
                session.Claims.Count == 0 ? string.Empty : JsonSerializer.Serialize(ToDictionary(session.Claims), RedisSessionsJsonContext.Default.DictionaryStringString),
                digest ?? string.Empty,
                ttl,
                now,
            ]);
        var results = await _calls.AwaitAsync(Task.WhenAll(reserve, create), cancellationToken);
        bool reserved = (long)results[0] == 1;
        bool made = (long)results[1] == 1;
        if (!reserved || !made)
        {
            // Undo whichever half took effect, so a refused create leaves nothing behind.
            await _calls.AwaitAsync(
                made ? db.KeyDeleteAsync(sessionKey) : db.SortedSetRemoveAsync(_keys.LiveSessions, session.SessionId),
                cancellationToken);
            throw made ? new SessionLimitExceededException() : new InvalidOperationException("The session id is already in use.");
        }

        if (digest is not null
            && !await _calls.AwaitAsync(db.StringSetAsync(_keys.SessionCookieByDigest(digest), session.SessionId, TimeSpan.FromMilliseconds(ttl), When.NotExists), cancellationToken))
        {
            // Undo the first half so a failed create leaves nothing behind. The message names no key: keys are secrets.
            await _calls.AwaitAsync(Task.WhenAll(db.KeyDeleteAsync(sessionKey), db.SortedSetRemoveAsync(_keys.LiveSessions, session.SessionId)), cancellationToken);
            throw new InvalidOperationException("The cookie key is already in use.");
        }
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> FindByIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return UseAsync(sessionId, userId: null, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<BrokerSession?> FindByCookieKeyAsync(string cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cookieKey);
        var sessionId = await _calls.AwaitAsync(_calls.Database.StringGetAsync(_keys.SessionCookie(cookieKey)), cancellationToken);
        return sessionId.IsNull ? null : await UseAsync(sessionId.ToString(), userId: null, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> BindUserAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(userId);
        return UseAsync(sessionId, userId, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> TouchAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return await UseAsync(sessionId, userId: null, cancellationToken) is not null;
    }

    /// <inheritdoc />
    /// <remarks>Redis expires the keys itself: nothing to sweep.</remarks>
    public ValueTask<int> PurgeExpiredAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(0);

    private async ValueTask<BrokerSession?> UseAsync(string sessionId, string? userId, CancellationToken cancellationToken)
    {
        var db = _calls.Database;
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var result = await _calls.AwaitAsync(
            db.ScriptEvaluateAsync(UseScript, [_keys.Session(sessionId)], [now, _idleMs, _lifetimeMs, userId ?? string.Empty]),
            cancellationToken);
        if (result.IsNull)
        {
            return null;
        }

        var items = (RedisResult[])result!;
        var fields = new HashEntry[items.Length / 2];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = new HashEntry((RedisValue)items[2 * i], (RedisValue)items[(2 * i) + 1]);
        }

        var session = Read(sessionId, fields, out var cookieDigest, out var ttlMs);
        if (ttlMs > 0)
        {
            // The bound counts the session until its new expiry. Fire and forget: no reply is waited for, so the bound
            // costs a use no round trip; a lost update only lets the entry go at the old expiry (an undercount).
            _ = db.ScriptEvaluateAsync(ExtendScript, [_keys.LiveSessions], [now + ttlMs, sessionId, ttlMs], CommandFlags.FireAndForget);
        }

        if (cookieDigest is not null && ttlMs > 0)
        {
            // The cookie's mapping lives exactly as long as its session; a second step, as on create (see the remarks).
            await _calls.AwaitAsync(db.KeyExpireAsync(_keys.SessionCookieByDigest(cookieDigest), TimeSpan.FromMilliseconds(ttlMs)), cancellationToken);
        }

        return session;
    }

    private static BrokerSession? Read(string sessionId, HashEntry[] fields, out string? cookieDigest, out long ttlMs)
    {
        cookieDigest = null;
        ttlMs = 0;
        if (fields.Length == 0)
        {
            return null;
        }

        long created = 0;
        string? userId = null;
        IReadOnlyDictionary<string, string> claims = BrokerSession.NoClaims;
        foreach (var field in fields)
        {
            switch (field.Name.ToString())
            {
                case CreatedField:
                    created = long.Parse(field.Value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture);
                    break;
                case UserField:
                    userId = field.Value.ToString();
                    break;
                case ClaimsField:
                    claims = JsonSerializer.Deserialize(field.Value.ToString(), RedisSessionsJsonContext.Default.DictionaryStringString) ?? claims;
                    break;
                case CookieField:
                    cookieDigest = field.Value.ToString();
                    break;
                case TtlField:
                    ttlMs = (long)field.Value;
                    break;
            }
        }

        return new BrokerSession(sessionId, userId, DateTimeOffset.FromUnixTimeMilliseconds(created), claims);
    }

    private static Dictionary<string, string> ToDictionary(IReadOnlyDictionary<string, string> claims) =>
        claims as Dictionary<string, string> ?? new Dictionary<string, string>(claims, StringComparer.Ordinal);
}
