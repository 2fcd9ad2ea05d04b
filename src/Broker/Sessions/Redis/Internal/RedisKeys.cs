using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Broker.Sessions.Redis.Internal;

/// <summary>
/// The names of the keys sessions, tickets and the key ring use, all under <c>&lt;prefix&gt;:</c>. Secrets (cookie
/// keys, tickets) appear only as their SHA-256 digest, so whoever can read Redis (or its dumps, or
/// <c>MONITOR</c>) cannot present them.
/// </summary>
/// <remarks>
/// A plain SHA-256 suffices, with no salt or key: the secrets are 256 random bits, so there is no dictionary
/// to try, and an unsalted digest lets every node find an entry from the secret alone.
/// </remarks>
internal sealed class RedisKeys
{
    private readonly string _sessionById;
    private readonly string _sessionByCookie;
    private readonly string _ticket;

    public RedisKeys(string prefix)
    {
        _sessionById = prefix + ":sessions:id:";
        _sessionByCookie = prefix + ":sessions:cookie:";
        _ticket = prefix + ":tickets:";
        KeyRing = prefix + ":data-protection:keys";
        LiveSessions = prefix + ":sessions:live";
    }

    /// <summary>The sorted set of live session ids scored by their expiry (Unix ms): the cluster's <c>MaxCount</c>.</summary>
    public RedisKey LiveSessions { get; }

    /// <summary>The list that holds the Data Protection key ring's XML elements.</summary>
    public RedisKey KeyRing { get; }

    /// <summary>The hash that holds a session's fields.</summary>
    public RedisKey Session(string sessionId) => _sessionById + sessionId;

    /// <summary>The string that maps a cookie key's digest to its session id.</summary>
    public RedisKey SessionCookie(string cookieKey) => SessionCookieByDigest(Digest(cookieKey));

    /// <summary>The same string, by the digest a session's hash keeps (so expiry can reach it without the key).</summary>
    public RedisKey SessionCookieByDigest(string digest) => _sessionByCookie + digest;

    /// <summary>The string that holds a ticket's entry, under the digest of the ticket text.</summary>
    public RedisKey Ticket(string ticket) => _ticket + Digest(ticket);

    /// <summary>Lower-case hex SHA-256 of the UTF-8 text: 64 characters.</summary>
    public static string Digest(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
