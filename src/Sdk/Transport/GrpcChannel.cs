using System.Net;

namespace Broker.Sdk.Transport;

/// <summary>
/// A connection to a gRPC server over <see cref="HttpClient"/>, as Grpc.Net.Client's <c>GrpcChannel</c>:
/// <c>http://</c> addresses speak HTTP/2 cleartext with prior knowledge (h2c), <c>https://</c> addresses
/// HTTP/2 over TLS. Create one per server and share it: calls multiplex over its connections.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private const int InitialStreamWindowSize = 1024 * 1024;

    private readonly bool _disposeHandler;

    private GrpcChannel(Uri address, GrpcChannelOptions options)
    {
        Address = address;
        Options = options;
        HttpMessageHandler handler;
        if (options.HttpHandler is { } given)
        {
            handler = given;
        }
        else
        {
            handler = new SocketsHttpHandler
            {
                // A server caps concurrent streams per connection (Kestrel: 100 by default); past the cap,
                // open another connection rather than queue calls behind long-lived streams.
                EnableMultipleHttp2Connections = true,
                // h2c with prior knowledge cannot go through an HTTP proxy, and a backend talks to the broker directly.
                UseProxy = false,
                KeepAlivePingDelay = options.KeepAlivePingDelay,
                KeepAlivePingTimeout = options.KeepAlivePingTimeout,
                // grpc-core counts a ping with no call open as a strike (keepalive_permit_without_calls=0).
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                AutomaticDecompression = DecompressionMethods.None,
                // The receive window each response stream starts with (default 64 KiB, then grown by HttpClient's
                // RTT-based scaling): a Subscribe stream at hundreds of thousands of small messages a second fills
                // 64 KiB in a fraction of a millisecond, so the broker would stall on WINDOW_UPDATEs and its
                // subscriber queue would overflow. 1 MiB is only held while the reader lags.
                InitialHttp2StreamWindowSize = InitialStreamWindowSize,
            };
            _disposeHandler = true;
        }

        HttpClient = new HttpClient(handler, _disposeHandler)
        {
            BaseAddress = address,
            // Streams live as long as the caller wants; deadlines and cancellation bound calls instead.
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            // Exact: never fall back to HTTP/1.1, which cannot carry gRPC; for http:// this means h2c prior knowledge.
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    /// <summary>The channel's options.</summary>
    public GrpcChannelOptions Options { get; }

    internal HttpClient HttpClient { get; }

    /// <summary>The <c>user-agent</c> sent with every call: grpc-{language}-{variant}/{version}, as the spec suggests.</summary>
    internal static string UserAgent { get; } =
        "grpc-csharp-broker/" + (typeof(GrpcChannel).Assembly.GetName().Version?.ToString(3) ?? "1.0.0");

    /// <summary>Creates a channel to an <c>http://</c> or <c>https://</c> address.</summary>
    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null) => ForAddress(new Uri(address), options);

    /// <summary>Creates a channel to an <c>http://</c> or <c>https://</c> address.</summary>
    public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("The address must be http:// or https://.", nameof(address));
        }

        return new GrpcChannel(address, options ?? new GrpcChannelOptions());
    }

    /// <summary>Creates an invoker that starts calls on this channel.</summary>
    public CallInvoker CreateCallInvoker() => new HttpClientCallInvoker(this);

    /// <summary>Closes the channel's connections; running calls fail.</summary>
    public void Dispose() => HttpClient.Dispose();
}
