using Broker.Engines;

namespace Broker.Core.Handlers;

/// <summary>
/// What the registry needs from the cluster to reach other nodes' handlers (the core's cluster control
/// implements it over the engine's control path). An interface here, so that handlers do not depend on
/// the cluster folder, which depends on them.
/// </summary>
internal interface IHandlerCluster
{
    /// <summary>Sends this node's handler table to every other live node and waits, bounded, until each took it.</summary>
    Task AnnounceHandlersAsync();

    /// <summary>Sends a call to the node of its handler; false when that node is gone or unreachable.</summary>
    Task<bool> SendCallAsync(string node, RemoteCall call);
}

/// <summary>A <c>send</c> on its way to another node's handler.</summary>
/// <param name="Id">The call's id on the sending node (its result names it).</param>
/// <param name="HandlerId">The handler it is for.</param>
/// <param name="Event">The event.</param>
/// <param name="Data">The data, UTF-8 JSON.</param>
/// <param name="From">The sender.</param>
/// <param name="Deadline">When the sender stops waiting.</param>
internal sealed record RemoteCall(long Id, string HandlerId, string Event, byte[] Data, ClientInfo From, DateTimeOffset Deadline);

/// <summary>What became of a <see cref="RemoteCall"/>: the handler's reply, or <paramref name="Lost"/>.</summary>
/// <param name="Id">The call's id on the sending node.</param>
/// <param name="HandlerId">The handler it was for.</param>
/// <param name="Lost">The handler went away with the call (or was not there): the sender gives it to another handler once.</param>
/// <param name="Data">The reply data, when it succeeded.</param>
/// <param name="ErrorCode">The handler's error code, when it failed the call.</param>
/// <param name="ErrorMessage">Its message.</param>
internal sealed record RemoteResult(long Id, string HandlerId, bool Lost, byte[]? Data = null, string? ErrorCode = null, string? ErrorMessage = null);
