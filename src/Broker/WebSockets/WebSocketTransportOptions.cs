namespace Broker.WebSockets;

/// <summary>Settings of the browser transport, bound from <c>Broker:WebSocket</c> (PROTOCOL.md).</summary>
public sealed class WebSocketTransportOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker:WebSocket";

    /// <summary>How long a new socket may take to send <c>hello</c> before it is closed with 1008. Default 5 seconds.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the server sends <c>ping</c>. Default 25 seconds.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long after a <c>ping</c> some frame must arrive before the socket is closed with 1008. Default 10 seconds.</summary>
    public TimeSpan PongTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one write may block before the socket is closed as a slow consumer. Default 10 seconds.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Subscriptions per connection, personal channels not counted. Default 128.</summary>
    public int MaxSubscriptions { get; set; } = 128;

    /// <summary>Publishes and sends per second per connection; the bucket holds twice this. Default 100.</summary>
    public int PublishRate { get; set; } = 100;

    /// <summary>Largest WebSocket message from a client, in bytes (the whole message); over it closes with 1009. Default 131,072.</summary>
    public int MaxMessageBytes { get; set; } = 131_072;
}
