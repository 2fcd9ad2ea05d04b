namespace Broker.LoadTest;

/// <summary>The servers the load test compares.</summary>
internal enum ServerKind
{
    /// <summary>This project's broker, Release build, default options.</summary>
    Broker,

    /// <summary>A plain ASP.NET Core SignalR hub server (benchmarks/SignalRServer).</summary>
    SignalR,

    /// <summary>Debian's nats-server with its WebSocket listener.</summary>
    Nats,
}
