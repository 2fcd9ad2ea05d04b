using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// A connection as the core sees it, whatever its transport: who it belongs to, what it has queued, and
/// how to end it. Registered with the <see cref="ConnectionRegistry"/> while it is open.
/// </summary>
public interface IClientConnection
{
    /// <summary>The connection's identity (for a browser, bound at <c>hello</c>).</summary>
    ClientInfo Client { get; }

    /// <summary>The transport, as metrics and stats name it: <c>websocket</c>.</summary>
    string Transport { get; }

    /// <summary>Bytes queued for the connection and not yet written (a walk: for stats, not per message).</summary>
    long PendingBytes { get; }

    /// <summary>
    /// Ends the connection because a backend asked (<c>Disconnect</c>): the client is told
    /// <paramref name="reason"/> and whether to <paramref name="reconnect"/>. False when it was already
    /// closing, so a caller counts only what it ended. Must not block.
    /// </summary>
    bool Disconnect(string reason, bool reconnect);

    /// <summary>
    /// Ends the connection because its session ended (expired, PROTOCOL.md close 4003): the client is told
    /// <paramref name="reason"/> with <c>reconnect:false</c>. False when it was already closing. Must not block.
    /// </summary>
    bool EndSession(string reason);
}
