using Broker.Engines;
namespace Broker.Core.Handlers;

/// <summary>
/// One browser <c>send</c> on its way to a handler: what the handler sees (event, data, sender,
/// deadline) and the completion the caller awaits.
/// </summary>
public sealed class InboundCall
{
    private readonly TaskCompletionSource<HandlerReply> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal InboundCall(ulong id, string @event, ReadOnlyMemory<byte> data, ClientInfo from, DateTimeOffset deadline)
    {
        Id = id;
        Event = @event;
        Data = data;
        From = from;
        Deadline = deadline;
    }

    /// <summary>The call's id, unique in this broker; the handler's reply names it (<c>inbound_id</c>).</summary>
    public ulong Id { get; }

    /// <summary>The <c>send</c>'s event name.</summary>
    public string Event { get; }

    /// <summary>The <c>send</c>'s data, UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The sender's session, user and connection.</summary>
    public ClientInfo From { get; }

    /// <summary>When the caller stops waiting.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>True once the call was given to a second handler after the first one's stream ended.</summary>
    internal bool Redelivered { get; set; }

    /// <summary>True for a call another node sent for one of this node's handlers: that node redelivers it, not this one.</summary>
    internal bool Proxied { get; init; }

    /// <summary>The group serving the call, once one was chosen.</summary>
    internal string? Group { get; set; }

    /// <summary>The handler now holding the call, or null while it waits for capacity.</summary>
    internal HandlerRegistration? Holder { get; set; }

    internal Task<HandlerReply> Task => _completion.Task;

    internal bool TryComplete(HandlerReply reply) => _completion.TrySetResult(reply);
}
