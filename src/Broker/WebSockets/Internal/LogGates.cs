using Broker.Diagnostics;

namespace Broker.WebSockets.Internal;

/// <summary>The browser transport's log gates, one per cause a client can repeat at will (see <see cref="LogGate"/>).</summary>
internal sealed class LogGates(TimeProvider time)
{
    // A minute: often enough to see that an attack goes on, rarely enough that it cannot fill the disk.
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    public LogGate Connections { get; } = new(time, Interval);

    public LogGate ConnectionsPerIp { get; } = new(time, Interval);

    public LogGate HelloRefused { get; } = new(time, Interval);

    public LogGate HelloBlocked { get; } = new(time, Interval);

    public LogGate Violations { get; } = new(time, Interval);

    public LogGate OriginRefused { get; } = new(time, Interval);
}
