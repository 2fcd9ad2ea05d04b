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
/// <see cref="Count"/> is <see langword="null"/>: the sessions are the cluster's, not this node's, and
/// <c>/stats</c> is per node; counting them would also take a scan of the key space. For the same reason there is
/// no <c>MaxCount</c> here: the bound is the TTL (sessions made within one idle timeout) and Redis's <c>maxmemory</c>.
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

    private const string CreatedField = "created";
    private const string UserField = "user";
    private const string ClaimsField = "claims";
    private const string CookieField = "cookie";
    private const string TtlField = "ttl";

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _time;
    private readonly long _idleMs;
    private readonly long _lifetimeMs;

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
    /// <param name="options"><c>Broker:Sessions</c>: the idle timeout and lifetime (<c>MaxCount</c> is not read, see the remarks).</param>
    /// <param name="time">The clock lifetimes are reckoned on.</param>
    public RedisSessionStore(IConnectionMultiplexer redis, string prefix, SessionStoreOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _redis = redis;
        _keys = new RedisKeys(prefix);
        _time = time;
        _idleMs = (long)options.IdleTimeout.TotalMilliseconds;
        _lifetimeMs = (long)options.Lifetime.TotalMilliseconds;
    }

    /// <inheritdoc />
    public long? Count => null;

    private IDatabase Database => _redis.GetDatabase();

    /// <inheritdoc />
    public async ValueTask CreateAsync(BrokerSession session, string? cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        var db = Database;
        var sessionKey = _keys.Session(session.SessionId);
        var created = session.CreatedAt.ToUnixTimeMilliseconds();
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        // At least a millisecond: a session made already past its lifetime (a clock far ahead) is gone at once.
        var ttl = Math.Max(1, Math.Min(_idleMs, created + _lifetimeMs - now));
        var digest = cookieKey is null ? null : RedisKeys.Digest(cookieKey);
        var done = await db.ScriptEvaluateAsync(
            CreateScript,
            [sessionKey],
            [
                created,
                session.UserId ?? string.Empty,
                session.Claims.Count == 0 ? string.Empty : JsonSerializer.Serialize(ToDictionary(session.Claims), RedisSessionsJsonContext.Default.DictionaryStringString),
                digest ?? string.Empty,
                ttl,
                now,
            ]).WaitAsync(cancellationToken);
        if ((long)done == 0)
        {
            throw new InvalidOperationException("The session id is already in use.");
        }

        if (digest is not null
            && !await db.StringSetAsync(_keys.SessionCookieByDigest(digest), session.SessionId, TimeSpan.FromMilliseconds(ttl), When.NotExists).WaitAsync(cancellationToken))
        {
            // Undo the first half so a failed create leaves nothing behind. The message names no key: keys are secrets.
            await db.KeyDeleteAsync(sessionKey).WaitAsync(cancellationToken);
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
        var sessionId = await Database.StringGetAsync(_keys.SessionCookie(cookieKey)).WaitAsync(cancellationToken);
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
        var db = Database;
        var result = await db.ScriptEvaluateAsync(
            UseScript,
            [_keys.Session(sessionId)],
            [_time.GetUtcNow().ToUnixTimeMilliseconds(), _idleMs, _lifetimeMs, userId ?? string.Empty]).WaitAsync(cancellationToken);
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
        if (cookieDigest is not null && ttlMs > 0)
        {
            // The cookie's mapping lives exactly as long as its session; a second step, as on create (see the remarks).
            await db.KeyExpireAsync(_keys.SessionCookieByDigest(cookieDigest), TimeSpan.FromMilliseconds(ttlMs)).WaitAsync(cancellationToken);
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
