namespace Broker.Grpc;

/// <summary>Settings of the backend transport, bound from <c>Broker:Grpc</c>.</summary>
public sealed class GrpcServiceOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker:Grpc";

    /// <summary>
    /// Keys a backend presents as <c>authorization: Bearer &lt;key&gt;</c>. Empty (the default): only
    /// callers on loopback are served, and the broker says so in its log at start.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>A <c>Subscribe</c> stream's queue when the request's <c>buffer</c> is 0, in messages. Default 1024.</summary>
    public int DefaultSubscribeBuffer { get; set; } = 1024;

    /// <summary>
    /// Entries (exact channels and prefixes) one <c>Subscribe</c> may name. Default 1024; more: RESOURCE_EXHAUSTED. A
    /// backend holds a stream's channels in one queue, so this bounds what one request can make the broker hold;
    /// 8 times the browser's 128 (Centrifugo's channel limit per connection) since one backend stream often serves
    /// many users, and a prefix (<c>chat:*</c>) covers any number of channels.
    /// </summary>
    public int MaxSubscriptionsPerStream { get; set; } = 1024;

    /// <summary>
    /// Event names and prefixes one <c>Handle</c> registration may list. Default 128; more: RESOURCE_EXHAUSTED. Every
    /// browser <c>send</c> is matched against every registration's events under one lock, so this bounds what one
    /// registration adds to each. (A stream registers once: PROTOCOL.md makes <c>register</c> its first message, and a
    /// second one ends the stream with RESOURCE_EXHAUSTED.)
    /// </summary>
    public int MaxHandlerEvents { get; set; } = 128;
}
