using Broker.Core;
using Broker.Engines;
using Grpc.Core;
using Broker.V1;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary><c>History</c>: as the WebSocket <c>history</c> (docs/protocol.md); <c>limit</c> 0 means every kept publication.</summary>
    private async Task<HistoryReply> HistoryAsync(HistoryRequest request, ServerCallContext context)
    {
        var since = request.Since is { } position ? ProtoConvert.FromProto(position) : (Engines.StreamPosition?)null;
        int? limit = request.Limit == 0 ? null : (int)Math.Min(request.Limit, int.MaxValue);
        var result = (await _node.HistoryAsync(Caller.Backend, request.Channel, since, limit, context.CancellationToken)).OrThrow();
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
        var members = (await _node.PresenceAsync(Caller.Backend, request.Channel, context.CancellationToken)).OrThrow();
        var reply = new PresenceReply();
        foreach (var entry in members)
        {
            reply.Members.Add(new Member { SessionId = entry.SessionId, UserId = entry.UserId ?? string.Empty, Connections = (uint)entry.Connections });
        }

        return reply;
    }
}
