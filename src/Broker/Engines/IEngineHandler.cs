
namespace Broker.Engines;

/// <summary>
/// Where an engine delivers what happens on channels: the broker's local fan-out (the core's <c>Hub</c>).
/// </summary>
public interface IEngineHandler
{
    /// <summary>
    /// A publication, delivered in offset order per channel and never concurrently for the same channel.
    /// Must not block: fan-out only queues.
    /// </summary>
    void OnPublication(Publication publication);

    /// <summary>A <c>join</c> or <c>leave</c>, ordered with the channel's publications.</summary>
    void OnPresence(PresenceEvent presence);

    /// <summary>
    /// A channel the node is interested in started a new epoch while it was subscribed (the backend lost its
    /// numbering and history): live delivery continues after <paramref name="position"/>. Comes in order with
    /// the channel's publications, before any of the new epoch. Must not block.
    /// </summary>
    void OnEpochChanged(string channel, StreamPosition position);

    /// <summary>
    /// A control message another node's core (or this one's) sent with <see cref="IEngine.SendControlAsync"/>.
    /// Calls may come from any thread, one at a time per sending node; must not block.
    /// </summary>
    void OnControl(string fromNode, ReadOnlyMemory<byte> message);
}
