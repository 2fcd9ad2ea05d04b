namespace Broker.Core.Handlers;

/// <summary>One handler of another node, as its node announces it.</summary>
/// <param name="Id">The handler id (<c>Registered.handler_id</c>).</param>
/// <param name="Group">Its group.</param>
/// <param name="Events">Event names or prefixes ending in <c>*</c>.</param>
/// <param name="MaxInFlight">Its <c>max_in_flight</c>.</param>
/// <param name="Order">Registration order across the cluster (Unix ms × 1024 + a node-local sequence): a tie between equally specific groups goes to the earliest.</param>
internal sealed record RemoteHandlerInfo(string Id, string Group, string[] Events, int MaxInFlight, long Order);
