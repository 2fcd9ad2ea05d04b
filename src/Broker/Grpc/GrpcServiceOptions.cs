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
}
