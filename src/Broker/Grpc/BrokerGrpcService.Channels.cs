using Broker.Engines;
using Broker.Grpc.Transport;
using Broker.GrpcTransport;
using Broker.V1;

namespace Broker.Grpc;

internal sealed partial class BrokerGrpcService
{
    /// <summary><c>History</c>: as the WebSocket <c>history</c> (docs/protocol.md); <c>limit</c> 0 means every kept publication.</summary>
    private async Task<HistoryReply> HistoryAsync(HistoryRequest request, ServerCallContext context)
    {
        _auth.Check(context);
        if (CheckChannel(request.Channel, out _) is { } failure)
        {
            throw failure.ToException();
        }

        var query = new HistoryQuery(request.Since is { } since ? ProtoConvert.FromProto(since) : null, request.Limit == 0 ? null : (int)Math.Min(request.Limit, int.MaxValue));
        var result = await _hub.ReadHistoryAsync(request.Channel, query, context.CancellationToken);
        var reply = new HistoryReply { Position = ProtoConvert.ToProto(result.Position), Recovered = result.Recovered };
        foreach (var publication in result.Publications)
        {
            reply.Publications.Add(ProtoConvert.ToProto(publication));
        }

        return reply;
    }

    /// <summary><c>Presence</c>: every session, with its user and connection count (backends see sessions; browsers only users).</summary>
    private async Task<PresenceReply> PresenceAsync(PresenceRequest request, ServerCallContext context)
    {
        _auth.Check(context);
        if (CheckChannel(request.Channel, out var policy) is { } failure)
        {
            throw failure.ToException();
        }

        if (!policy!.Presence)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Presence is not kept in namespace '{policy.Name}'."));
        }

        var reply = new PresenceReply();
        foreach (var entry in await _hub.GetPresenceAsync(request.Channel, context.CancellationToken))
        {
            reply.Members.Add(new Member { SessionId = entry.SessionId, UserId = entry.UserId ?? string.Empty, Connections = (uint)entry.Connections });
        }

        return reply;
    }
}
