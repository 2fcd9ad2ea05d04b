
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
}
