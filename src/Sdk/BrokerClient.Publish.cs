using System.Text.Json;
using Broker.V1;

namespace Broker.Sdk;

public sealed partial class BrokerClient
{
    /// <summary>Publishes one publication (<c>Publish</c>) and returns where it landed.</summary>
    /// <param name="channel">The channel, e.g. <c>chat:lobby</c> or <c>$user:u42</c>.</param>
    /// <param name="data">One JSON value, UTF-8; at most the broker's <c>MaxMessageBytes</c>.</param>
    /// <param name="event">The event name; null: <c>message</c>.</param>
    /// <param name="idempotencyKey">A key that makes a retry within a minute publish nothing and return the first result.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="BrokerException">
    /// INVALID_ARGUMENT (<c>bad_request</c>: a bad channel or event, data that is not JSON), RESOURCE_EXHAUSTED
    /// (<c>too_large</c>), UNAUTHENTICATED, UNAVAILABLE, DEADLINE_EXCEEDED.
    /// </exception>
    public async Task<PublishResult> PublishAsync(string channel, ReadOnlyMemory<byte> data, string? @event = null, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        var request = CreatePublishRequest(channel, data, @event, idempotencyKey);
        var reply = await UnaryAsync(BrokerMethods.Publish, request, cancellationToken).ConfigureAwait(false);
        return ToResult(reply);
    }

    /// <summary>
    /// Publishes <paramref name="value"/> serialized with System.Text.Json (<see cref="BrokerClientOptions.JsonSerializerOptions"/>).
    /// A <c>byte[]</c> or <see cref="ReadOnlyMemory{T}"/> goes to the raw overload, as UTF-8 JSON, not as a base64 string.
    /// </summary>
    /// <inheritdoc cref="PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>
    public Task<PublishResult> PublishAsync(string channel, object? value, string? @event = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        PublishAsync(channel, SerializeJson(value), @event, idempotencyKey, cancellationToken);

    /// <summary>
    /// Creates a pipelined publisher over one <c>PublishStream</c>: many publications in flight, each answered in order.
    /// Dispose it to wait for the replies still due and close the stream.
    /// </summary>
    /// <param name="maxInFlight">Publications sent and not yet answered before <c>PublishAsync</c> waits; null: <see cref="BrokerClientOptions.PublisherMaxInFlight"/>.</param>
    public BrokerPublisher CreatePublisher(int? maxInFlight = null)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        return new BrokerPublisher(this, maxInFlight ?? Options.PublisherMaxInFlight);
    }

    internal ReadOnlyMemory<byte> SerializeJson(object? value) => value switch
    {
        byte[] bytes => bytes,
        ReadOnlyMemory<byte> memory => memory,
        Memory<byte> memory => memory,
        _ => JsonSerializer.SerializeToUtf8Bytes(value, value?.GetType() ?? typeof(object), Options.JsonSerializerOptions),
    };

    internal static PublishRequest CreatePublishRequest(string channel, ReadOnlyMemory<byte> data, string? @event, string? idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return new PublishRequest
        {
            Channel = channel,
            Event = @event ?? string.Empty,
            Data = Bytes(data),
            IdempotencyKey = idempotencyKey ?? string.Empty,
        };
    }

    internal static PublishResult ToResult(PublishReply reply) => new(reply.Channel, new StreamPosition(reply.Epoch, reply.Offset));
}
