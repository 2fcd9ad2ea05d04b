using System.Net;
using Grpc.Core;
using Broker.Sessions;
using Broker.V1;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary><c>IssueTicket</c>: a one-time WebSocket ticket for a known session (or a new one), optionally binding a user.</summary>
    private async Task<IssueTicketReply> IssueTicketAsync(IssueTicketRequest request, ServerCallContext context)
    {
        IPAddress? clientIp = null;
        if (request.ClientIp.Length > 0 && !IPAddress.TryParse(request.ClientIp, out clientIp))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "'client_ip' is not an IP address."));
        }

        var result = await _tickets.IssueAsync(
            ProtoConvert.NullIfEmpty(request.SessionId),
            ProtoConvert.NullIfEmpty(request.UserId),
            request.Claims.Count == 0 ? null : new Dictionary<string, string>(request.Claims),
            clientIp,
            request.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(request.TtlSeconds),
            context.CancellationToken);
        return result.Status switch
        {
            TicketIssueStatus.Issued => new IssueTicketReply
            {
                Ticket = result.Ticket!,
                ExpiresUnixMs = result.ExpiresAt.ToUnixTimeMilliseconds(),
                SessionId = result.Session!.SessionId,
            },
            TicketIssueStatus.SessionNotFound => throw new RpcException(new Status(StatusCode.NotFound, $"No session '{request.SessionId}' is known.")),
            TicketIssueStatus.SessionLimitReached => throw new RpcException(new Status(StatusCode.ResourceExhausted, "The session store is full (Broker:Sessions:MaxCount); name an existing session or try later.")),
            TicketIssueStatus.TicketLimitReached => throw new RpcException(new Status(StatusCode.ResourceExhausted, "Too many tickets are outstanding (Broker:Tickets:MaxOutstanding); try again when some are used or expired.")),
            TicketIssueStatus.Unavailable => throw new RpcException(new Status(StatusCode.Unavailable, "The session store is unreachable; try again shortly.")),
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, result.ToString())),
        };
    }

    /// <summary><c>Disconnect</c>: closes the session's, the user's, or that user's-in-that-session sockets with 4002, on every node.</summary>
    private async Task<DisconnectReply> DisconnectAsync(DisconnectRequest request, ServerCallContext context)
    {
        var result = await _node.DisconnectAsync(ProtoConvert.NullIfEmpty(request.SessionId), ProtoConvert.NullIfEmpty(request.UserId), request.Reason, request.Reconnect, context.CancellationToken);
        if (!result.TryGetValue(out int count, out var refused))
        {
            throw refused.ToException();
        }

        return new DisconnectReply { Connections = (uint)count };
    }
}
