using Broker.Core.Handlers;

namespace Broker.Core.Cluster;

/// <summary>
/// One node-to-node control message, JSON on the engine's control path. One flat shape for every
/// <see cref="Type"/>: control messages are rare (a <c>Disconnect</c>, a handler registering, a <c>send</c>
/// crossing nodes), so readability on the wire beats compactness.
/// </summary>
/// <remarks>Types: <c>disconnect</c> (asks for <see cref="Count"/>), <c>handlers</c> (a node's handler
/// table, acknowledged when it has an <see cref="Id"/>), <c>sync</c> (asks for the table), <c>call</c> (a
/// <c>send</c> for one handler), <c>result</c> (its outcome), <c>reply</c> (answers a request by <see cref="Id"/>).</remarks>
internal sealed class ControlMessage
{
    public string Type { get; set; } = "";

    /// <summary>A request's id (its reply names it); for <c>call</c> and <c>result</c>, the call's id on the sending node.</summary>
    public long Id { get; set; }

    public string? SessionId { get; set; }

    public string? UserId { get; set; }

    public string? Reason { get; set; }

    public bool Reconnect { get; set; }

    /// <summary>A <c>disconnect</c>'s reply: connections ended on the answering node.</summary>
    public int Count { get; set; }

    /// <summary>A <c>handlers</c> table's version: newer replaces older, an older one that arrives late is ignored.</summary>
    public long Version { get; set; }

    public List<RemoteHandlerInfo>? Handlers { get; set; }

    public string? HandlerId { get; set; }

    public string? Event { get; set; }

    public byte[]? Data { get; set; }

    public string? FromConnection { get; set; }

    public long DeadlineUnixMs { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>A <c>result</c> that says the handler went away with the call (or was not there): the sender gives it to another handler once.</summary>
    public bool Lost { get; set; }
}
