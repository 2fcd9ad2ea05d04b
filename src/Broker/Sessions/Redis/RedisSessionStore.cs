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
/// milliseconds), <c>user</c> (absent: no user) and <c>claims</c> (a JSON object, absent: none). A cookie key is
/// found through <c>&lt;prefix&gt;:sessions:cookie:&lt;SHA-256 of the key&gt;</c>, a string holding the session id:
/// the key itself is never stored.
/// </para>
/// <para>
/// Creating and binding a user each run as one script on the session's own key, so a reader (one
/// <c>HGETALL</c>) sees the whole old record or the whole new one. Every command touches one key, so the store
/// works on Redis Cluster too; the price is that a session and its cookie mapping are written in two steps,
/// as the in-memory store does (a failed second step undoes the first). Sessions do not expire, as in memory.
/// </para>
/// <para>
/// <see cref="Count"/> is <see langword="null"/>: the sessions are the cluster's, not this node's, and
/// <c>/stats</c> is per node; counting them would also take a scan of the key space.
/// </para>
/// </remarks>
public sealed class RedisSessionStore : ISessionStore
{
    // Creates the hash only when the key is new; an empty ARGV means "field absent" (no valid user id is empty).
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'created', ARGV[1])
        if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'user', ARGV[2]) end
        if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'claims', ARGV[3]) end
        return 1
        """;

    // Binds the user and returns the whole updated hash in the same step, so the caller gets exactly what it wrote.
    private const string BindUserScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        redis.call('HSET', KEYS[1], 'user', ARGV[1])
        return redis.call('HGETALL', KEYS[1])
        """;

    private const string CreatedField = "created";
    private const string UserField = "user";
    private const string ClaimsField = "claims";

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;

    /// <summary>Creates the store on a connection, with keys under <paramref name="prefix"/>.</summary>
    /// <param name="redis">The process's shared connection.</param>
    /// <param name="prefix"><c>Broker:Redis:Prefix</c>.</param>
    public RedisSessionStore(IConnectionMultiplexer redis, string prefix)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        _redis = redis;
        _keys = new RedisKeys(prefix);
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
        var created = await db.ScriptEvaluateAsync(
            CreateScript,
            [sessionKey],
            [
                session.CreatedAt.ToUnixTimeMilliseconds(),
                session.UserId ?? string.Empty,
                session.Claims.Count == 0 ? string.Empty : JsonSerializer.Serialize(ToDictionary(session.Claims), RedisSessionsJsonContext.Default.DictionaryStringString),
            ]).WaitAsync(cancellationToken);
        if ((long)created == 0)
        {
            throw new InvalidOperationException("The session id is already in use.");
        }

        if (cookieKey is not null
            && !await db.StringSetAsync(_keys.SessionCookie(cookieKey), session.SessionId, expiry: null, when: When.NotExists).WaitAsync(cancellationToken))
        {
            // Undo the first half so a failed create leaves nothing behind. The message names no key: keys are secrets.
            await db.KeyDeleteAsync(sessionKey).WaitAsync(cancellationToken);
            throw new InvalidOperationException("The cookie key is already in use.");
        }
    }

    /// <inheritdoc />
    public async ValueTask<BrokerSession?> FindByIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        var fields = await Database.HashGetAllAsync(_keys.Session(sessionId)).WaitAsync(cancellationToken);
        return Read(sessionId, fields);
    }

    /// <inheritdoc />
    public async ValueTask<BrokerSession?> FindByCookieKeyAsync(string cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cookieKey);
        var sessionId = await Database.StringGetAsync(_keys.SessionCookie(cookieKey)).WaitAsync(cancellationToken);
        return sessionId.IsNull ? null : await FindByIdAsync(sessionId.ToString(), cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<BrokerSession?> BindUserAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(userId);
        var result = await Database.ScriptEvaluateAsync(BindUserScript, [_keys.Session(sessionId)], [userId]).WaitAsync(cancellationToken);
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

        return Read(sessionId, fields);
    }

    private static BrokerSession? Read(string sessionId, HashEntry[] fields)
    {
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
            }
        }

        return new BrokerSession(sessionId, userId, DateTimeOffset.FromUnixTimeMilliseconds(created), claims);
    }

    private static Dictionary<string, string> ToDictionary(IReadOnlyDictionary<string, string> claims) =>
        claims as Dictionary<string, string> ?? new Dictionary<string, string>(claims, StringComparer.Ordinal);
}
