using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// Who makes a request of the core: a browser connection, bound to its session and maybe a user, or a
/// backend service (authenticated by its API key). The rules differ by caller: a browser needs its
/// namespace's permission and may not use personal channels; a backend may publish to any configured
/// channel, personal ones included (that is how it reaches a session or a user).
/// </summary>
public sealed class Caller
{
    private Caller(ClientInfo? client) => Client = client;

    /// <summary>Every backend service: trusted, no session.</summary>
    public static Caller Backend { get; } = new(null);

    /// <summary>The browser connection's identity; null for a backend.</summary>
    public ClientInfo? Client { get; }

    /// <summary>True for a browser connection.</summary>
    public bool IsBrowser => Client is not null;

    /// <summary>True for a browser whose session has a user (PROTOCOL.md: <c>authenticated</c>).</summary>
    public bool HasUser => Client?.UserId is not null;

    /// <summary>A browser connection; made once per connection, at <c>hello</c>.</summary>
    public static Caller Browser(ClientInfo client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new(client);
    }

    /// <summary>True when <paramref name="channel"/> is this browser's own <c>$session:</c> or <c>$user:</c> channel.</summary>
    public bool OwnsPersonal(string channel) =>
        Client is { } client
        && (string.Equals(channel, ChannelNames.ForSession(client.SessionId!), StringComparison.Ordinal)
            || (client.UserId is { } user && string.Equals(channel, ChannelNames.ForUser(user), StringComparison.Ordinal)));
}
