using Broker.Lifecycle;
namespace Broker.Lifecycle.Internal;

/// <summary>The drain's log messages (event ids 9000–9099).</summary>
internal static partial class LifecycleLog
{
    [LoggerMessage(EventId = 9000, EventName = "Draining", Level = LogLevel.Information, Message = "Draining: no new connections; closing sockets and streams within {DrainTimeout}.")]
    public static partial void Draining(ILogger logger, TimeSpan drainTimeout);

    [LoggerMessage(EventId = 9001, EventName = "Drained", Level = LogLevel.Information, Message = "Drained in {Elapsed}; {Remaining} request(s) still running are left to the server's shutdown.")]
    public static partial void Drained(ILogger logger, int remaining, TimeSpan elapsed);
}
