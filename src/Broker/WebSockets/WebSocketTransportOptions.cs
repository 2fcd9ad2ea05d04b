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

    /// <summary>
    /// WebSocket connections this node keeps open at once, counted from the upgrade (before <c>hello</c>); past it an
    /// upgrade is refused with 503 and <c>Retry-After</c>. Default 65,536, NATS's <c>max_connections</c>.
    /// </summary>
    public int MaxConnections { get; set; } = 65_536;

    /// <summary>
    /// WebSocket connections one client address may keep open at once; past it an upgrade is refused with 503 and
    /// <c>Retry-After</c>. Default 1,000: an office or a mobile carrier's NAT puts hundreds of users, each with a few
    /// tabs, behind one address, while one machine opening thousands is a flood.
    /// </summary>
    public int MaxConnectionsPerIp { get; set; } = 1_000;

    /// <summary>
    /// <c>hello</c>s with a refused ticket (unknown, used, expired, or bound to another address) one client address
    /// may make per minute;
    /// past it its <c>hello</c>s get <c>rate_limited</c> and close 1008 without reaching the ticket store, until the
    /// minute is over. Default 30: a page retries a failed hello a few times, a guesser thousands.
    /// </summary>
    public int MaxFailedHellosPerIp { get; set; } = 30;
}
