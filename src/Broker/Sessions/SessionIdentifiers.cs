using System.Buffers.Text;
using System.Buffers;
using System.Security.Cryptography;

namespace Broker.Sessions;

/// <summary>
/// The shapes of the ids sessions use: makes random session ids, cookie keys and tickets, and checks the
/// user ids and session ids that come from outside (gRPC requests, backends).
/// </summary>
public static class SessionIdentifiers
{
    /// <summary>The longest user id, in characters (it becomes part of the channel name <c>$user:&lt;userId&gt;</c>).</summary>
    public const int MaxUserIdLength = 128;

    // 18 bytes = 144 bits, above the 128-bit floor, and a multiple of 3 so the base64url text has no padding (24 chars).
    private const int SessionIdBytes = 18;

    // Secrets get 256 bits: they guard a session rather than merely name one.
    private const int SecretBytes = 32;

    // The channel-name alphabet (PROTOCOL.md, "Terms"); SearchValues makes the scan vectorized.
    private static readonly SearchValues<char> UserIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-:@#/=");

    private static readonly SearchValues<char> Base64UrlChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    /// <summary>Makes a new public session id: 144 random bits as 24 characters of <c>[A-Za-z0-9_-]</c>.</summary>
    public static string NewSessionId() => RandomText(SessionIdBytes);

    /// <summary>Makes a new secret (cookie key or ticket): 256 random bits as 43 characters of <c>[A-Za-z0-9_-]</c>.</summary>
    public static string NewSecret() => RandomText(SecretBytes);

    /// <summary>
    /// Whether <paramref name="userId"/> is a valid user id: 1 to 128 characters of
    /// <c>[A-Za-z0-9_.\-:@#/=]</c>, the channel-name alphabet, so <c>$user:&lt;userId&gt;</c> is a valid channel.
    /// </summary>
    public static bool IsValidUserId(string? userId) =>
        userId is { Length: > 0 and <= MaxUserIdLength } && userId.AsSpan().IndexOfAnyExcept(UserIdChars) < 0;

    /// <summary>
    /// Whether <paramref name="sessionId"/> could be a session id: 1 to 64 characters of <c>[A-Za-z0-9_-]</c>.
    /// Lets callers refuse junk before a store lookup; it does not say the session exists.
    /// </summary>
    public static bool IsWellFormedSessionId(string? sessionId) =>
        // Ours are 24 characters; 64 leaves room for a longer id without letting megabytes reach a store lookup.
        sessionId is { Length: > 0 and <= 64 } && sessionId.AsSpan().IndexOfAnyExcept(Base64UrlChars) < 0;

    private static string RandomText(int byteCount)
    {
        Span<byte> bytes = stackalloc byte[byteCount];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }
}
