using System.Text.Json;

namespace Broker.Sdk;

/// <summary>
/// Settings of a <see cref="BrokerClient"/>. Bind them from a configuration section with
/// <c>services.AddBrokerClient(configuration.GetSection("BrokerClient"))</c>, or set them in code.
/// </summary>
public sealed record BrokerClientOptions
{
    /// <summary>
    /// The broker's gRPC endpoint: <c>http://host:port</c> for HTTP/2 cleartext (h2c), <c>https://host:port</c>
    /// for TLS. Default: <c>http://127.0.0.1:8081</c>, the broker's <c>Grpc</c> endpoint under <c>dotnet run</c>.
    /// </summary>
    public Uri Address { get; set; } = new("http://127.0.0.1:8081");

    /// <summary>
    /// The API key, one of the broker's <c>Broker:Grpc:ApiKeys</c>, sent as <c>authorization: Bearer &lt;key&gt;</c>
    /// on every call. Default: none (a broker with no key configured accepts loopback callers only).
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// The deadline of each unary call (<c>Publish</c>, <c>IssueTicket</c>, <c>Disconnect</c>, <c>History</c>,
    /// <c>Presence</c>), sent as <c>grpc-timeout</c> and enforced locally. Default: 10 s. Streams have no deadline.
    /// </summary>
    public TimeSpan DefaultDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first delay before reconnecting a dropped stream. Default: 100 ms. Doubles per failed attempt, with jitter.</summary>
    public TimeSpan ReconnectMinBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between reconnect attempts. Default: 10 s.</summary>
    public TimeSpan ReconnectMaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many publications a <see cref="BrokerPublisher"/> keeps in flight (sent, not yet answered) before
    /// <see cref="BrokerPublisher.PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>
    /// waits. Default: 256.
    /// </summary>
    public int PublisherMaxInFlight { get; set; } = 256;

    /// <summary>
    /// How many times a publisher re-sends a publication that carries an idempotency key after its stream broke.
    /// Default: 5. The broker remembers a key for a minute, so retries stay well inside that window.
    /// </summary>
    public int PublisherMaxRetries { get; set; } = 5;

    /// <summary>
    /// The handler that sends the HTTP/2 requests, e.g. one with a client certificate or a custom server
    /// certificate check, or a test's. Default: null, a <see cref="SocketsHttpHandler"/> set up for gRPC.
    /// A given handler is not disposed by the client.
    /// </summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>
    /// How the object overloads (<see cref="BrokerClient.PublishAsync(string, object?, string?, string?, CancellationToken)"/>,
    /// <see cref="HandlerResult.Json{T}(T, JsonSerializerOptions?)"/> …) serialize. Default: <see cref="JsonSerializerDefaults.Web"/> (camelCase).
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Checks the settings; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Address is null || !Address.IsAbsoluteUri || (Address.Scheme != Uri.UriSchemeHttp && Address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("Address must be an absolute http:// or https:// URI.", nameof(Address));
        }

        if (DefaultDeadline <= TimeSpan.Zero)
        {
            throw new ArgumentException("DefaultDeadline must be positive.", nameof(DefaultDeadline));
        }

        if (ReconnectMinBackoff <= TimeSpan.Zero || ReconnectMaxBackoff < ReconnectMinBackoff)
        {
            throw new ArgumentException("ReconnectMinBackoff must be positive and at most ReconnectMaxBackoff.", nameof(ReconnectMinBackoff));
        }

        if (PublisherMaxInFlight < 1)
        {
            throw new ArgumentException("PublisherMaxInFlight must be at least 1.", nameof(PublisherMaxInFlight));
        }

        if (PublisherMaxRetries < 0)
        {
            throw new ArgumentException("PublisherMaxRetries must not be negative.", nameof(PublisherMaxRetries));
        }
    }
}
