using Broker.V1;
using Google.Protobuf;

namespace Broker.Sdk;

public sealed partial class BrokerClient
{
    /// <summary>
    /// Mints a one-time WebSocket ticket (<c>IssueTicket</c>) for a page this backend serves: the browser sends it
    /// in <c>hello</c>. Fails NOT_FOUND for a <paramref name="sessionId"/> the broker does not know.
    /// </summary>
    /// <param name="sessionId">An existing session; null makes a new one.</param>
    /// <param name="userId">The user to bind to the session from now on, or null.</param>
    /// <param name="claims">Claims carried with the ticket, or null.</param>
    /// <param name="clientIp">Bind the ticket to this client IP, or null.</param>
    /// <param name="ttl">The ticket's life (whole seconds); null: the broker's <c>Broker:Tickets:Ttl</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IssuedTicket> IssueTicketAsync(
        string? sessionId = null,
        string? userId = null,
        IReadOnlyDictionary<string, string>? claims = null,
        string? clientIp = null,
        TimeSpan? ttl = null,
        CancellationToken cancellationToken = default)
    {
        var request = new IssueTicketRequest
        {
            SessionId = sessionId ?? string.Empty,
            UserId = userId ?? string.Empty,
            ClientIp = clientIp ?? string.Empty,
            // Round up: a ttl under a second must not become 0, which means "the broker's default".
            TtlSeconds = ttl is { } t ? (uint)Math.Max(1, Math.Ceiling(t.TotalSeconds)) : 0,
        };
        if (claims is not null)
        {
            foreach (var (key, value) in claims)
            {
                request.Claims[key] = value;
            }
        }

        var reply = await UnaryAsync(BrokerMethods.IssueTicket, request, cancellationToken).ConfigureAwait(false);
        return new IssuedTicket(reply.Ticket, DateTimeOffset.FromUnixTimeMilliseconds(reply.ExpiresUnixMs), reply.SessionId);
    }

    /// <summary>
    /// Closes the WebSocket connections of a session, of a user, or of that user in that session (<c>Disconnect</c>):
    /// each gets <c>disconnect</c> with <paramref name="reason"/> and <paramref name="reconnect"/>, then close 4002.
    /// </summary>
    /// <returns>How many connections were closed.</returns>
    public async Task<int> DisconnectAsync(string? sessionId, string? userId, string reason, bool reconnect = false, CancellationToken cancellationToken = default)
    {
        var request = new DisconnectRequest
        {
            SessionId = sessionId ?? string.Empty,
            UserId = userId ?? string.Empty,
            Reason = reason ?? string.Empty,
            Reconnect = reconnect,
        };
        var reply = await UnaryAsync(BrokerMethods.Disconnect, request, cancellationToken).ConfigureAwait(false);
        return (int)reply.Connections;
    }

    /// <summary>
    /// Reads a channel's history (<c>History</c>): with <paramref name="since"/>, the first <paramref name="limit"/>
    /// publications after it, oldest first, and whether that position was still in history; without, the last ones.
    /// </summary>
    /// <param name="channel">The channel.</param>
    /// <param name="since">Read after this position, or null for the newest.</param>
    /// <param name="limit">At most this many; null or 0: the broker's default.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<HistoryResult> HistoryAsync(string channel, StreamPosition? since = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var request = new HistoryRequest { Channel = channel, Limit = limit is > 0 ? (uint)limit.Value : 0 };
        if (since is { } position)
        {
            request.Since = new V1.StreamPosition { Epoch = position.Epoch ?? string.Empty, Offset = position.Offset };
        }

        var reply = await UnaryAsync(BrokerMethods.History, request, cancellationToken).ConfigureAwait(false);
        var publications = new Publication[reply.Publications.Count];
        for (var i = 0; i < publications.Length; i++)
        {
            publications[i] = Publication.FromProto(reply.Publications[i]);
        }

        var top = reply.Position is { } p ? new StreamPosition(p.Epoch, p.Offset) : default;
        return new HistoryResult(publications, top, reply.Recovered);
    }

    /// <summary>Lists who is in a channel (<c>Presence</c>): every session, with its user and connection count.</summary>
    public async Task<IReadOnlyList<PresenceMember>> PresenceAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var reply = await UnaryAsync(BrokerMethods.Presence, new PresenceRequest { Channel = channel }, cancellationToken).ConfigureAwait(false);
        var members = new PresenceMember[reply.Members.Count];
        for (var i = 0; i < members.Length; i++)
        {
            var m = reply.Members[i];
            members[i] = new PresenceMember(m.SessionId, m.UserId, (int)m.Connections);
        }

        return members;
    }

    internal static ByteString Bytes(ReadOnlyMemory<byte> data) => ByteString.CopyFrom(data.Span);
}
