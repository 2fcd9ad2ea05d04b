namespace Broker.Core.Handlers;

/// <summary>A handler's answer to a <c>send</c>: reply data, or an error code and message.</summary>
/// <param name="Data">UTF-8 JSON reply data; empty when the handler failed the call.</param>
/// <param name="ErrorCode">Null on success; else one of <see cref="ErrorCodes"/> (or the handler's own code).</param>
/// <param name="ErrorMessage">A message for the caller when failed.</param>
public sealed record HandlerReply(ReadOnlyMemory<byte> Data, string? ErrorCode = null, string? ErrorMessage = null)
{
    /// <summary>True when the call failed.</summary>
    public bool IsError => ErrorCode is not null;

    /// <summary>A failed reply.</summary>
    public static HandlerReply Error(string code, string message) => new(ReadOnlyMemory<byte>.Empty, code, message);
}
