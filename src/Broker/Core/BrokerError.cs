namespace Broker.Core;

/// <summary>A request the core refused: one <see cref="ErrorCode"/> and a message for the person who reads it.</summary>
/// <param name="Code">Why.</param>
/// <param name="Message">What was wrong and, where it helps, what is allowed.</param>
/// <param name="Channel">The channel the refusal is about, when the request itself has no id to answer (a <c>hello.resume</c> entry).</param>
/// <param name="WireCode">
/// A backend handler's own code, passed through verbatim to the browser (PROTOCOL.md: a handler's
/// reply carries "the same codes as WebSocket", which a handler may extend). Null for the core's codes.
/// </param>
public sealed record BrokerError(ErrorCode Code, string Message, string? Channel = null, string? WireCode = null)
{
    /// <summary>What the WebSocket <c>error.code</c> and gRPC <c>error_code</c> carry.</summary>
    public string Name => WireCode ?? ErrorCodes.Name(Code);

    /// <summary>The engine cannot serve now (a cluster engine lost its backend).</summary>
    public static BrokerError EngineUnavailable { get; } = new(ErrorCode.Unavailable, "The engine is unreachable; try again.");

    /// <summary>The node's subscriber queues hold <c>Broker:MaxQueuedBytes</c>: new work waits until writers catch up.</summary>
    public static BrokerError QueuesFull { get; } = new(ErrorCode.Unavailable, "The broker's subscriber queues are full; try again shortly.");
}
