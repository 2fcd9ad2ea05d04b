using System.Net;
using Broker.Sdk.Internal;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Sdk;

/// <summary>
/// A backend's connection to the broker over gRPC (PROTOCOL.md, "gRPC transport"): publish
/// (<see cref="PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>, or pipelined with
/// <see cref="CreatePublisher"/>), subscribe with automatic resume (<see cref="SubscribeAsync(IEnumerable{string}, IReadOnlyDictionary{string, StreamPosition}?, SubscribeOptions?, CancellationToken)"/>),
/// handle browser <c>send</c> frames (<see cref="HandleAsync(string, IEnumerable{string}, Func{HandlerContext, CancellationToken, ValueTask{HandlerResult}}, HandlerOptions, CancellationToken)"/>), and the admin calls
/// (<see cref="IssueTicketAsync"/>, <see cref="DisconnectAsync"/>, <see cref="HistoryAsync"/>, <see cref="PresenceAsync"/>).
/// Thread-safe; create one per broker and share it (calls multiplex over its HTTP/2 connections).
/// Failures surface as <see cref="BrokerException"/>. The client logs stream reconnects and handler failures through
/// the <see cref="ILoggerFactory"/> it is given (category <c>Broker.Sdk.BrokerClient</c>; Grpc.Net.Client's own
/// events under <c>Grpc.Net.Client</c>, without the logging scope it opens around each streamed message).
/// </summary>
public sealed partial class BrokerClient : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// The receive window each response stream starts with: 1 MiB (HttpClient's default, 64 KiB, then grows it by
    /// RTT-based scaling). A Subscribe stream at hundreds of thousands of small messages a second fills 64 KiB in a
    /// fraction of a millisecond, so the broker would stall on WINDOW_UPDATEs and its subscriber queue would
    /// overflow. 1 MiB is only held while the reader lags.
    /// </summary>
    internal const int InitialStreamWindowSize = 1024 * 1024;

    /// <summary>
    /// Idle time before the client pings the broker while calls are open: 330 s. grpc-core servers answer pings
    /// closer than 5 minutes apart (with no data in between) with GOAWAY too_many_pings after two strikes, so the
    /// delay stays above 300 s, and below the 350 s idle cut of common load balancers.
    /// </summary>
    internal static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(330);

    /// <summary>How long a ping may go unanswered before the connection is closed: 20 s, grpc-core's default.</summary>
    internal static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly Metadata _headers;
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Creates a client; no connection is made until the first call.</summary>
    /// <param name="options">The settings; checked with <see cref="BrokerClientOptions.Validate"/>.</param>
    /// <param name="loggerFactory">Where the client logs; null: nowhere. <c>AddBrokerClient</c> passes the app's.</param>
    public BrokerClient(BrokerClientOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        loggerFactory ??= NullLoggerFactory.Instance;
        Logger = loggerFactory.CreateLogger<BrokerClient>();
        _channel = CreateChannel(options, loggerFactory);
        _invoker = _channel.CreateCallInvoker();
        _headers = new Metadata();
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            _headers.Add("authorization", "Bearer " + options.ApiKey);
        }
    }

    /// <summary>The settings this client was made with.</summary>
    public BrokerClientOptions Options { get; }

    /// <summary>Stops every stream of this client (subscriptions end, handlers stop) and closes its connections.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops every stream of this client (subscriptions end, handlers stop) and closes its connections.</summary>
    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
            _channel.Dispose();
        }
    }

    /// <summary>Options of a unary call: headers, the default deadline, the caller's token.</summary>
    private CallOptions UnaryOptions(CancellationToken cancellationToken) =>
        new(_headers, DateTime.UtcNow + Options.DefaultDeadline, cancellationToken);

    /// <summary>Options of a stream: no deadline; ends with the caller's token or the client's disposal.</summary>
    internal CallOptions StreamOptions(CancellationToken cancellationToken) => new(_headers, null, cancellationToken);

    internal CallInvoker Invoker => _invoker;

    internal ILogger Logger { get; }

    /// <summary>Cancelled when the client is disposed.</summary>
    internal CancellationToken DisposedToken => _disposed.Token;

    private async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>
        where TResponse : class, Google.Protobuf.IMessage<TResponse>
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        using var call = _invoker.AsyncUnaryCall(method, null, UnaryOptions(cancellationToken), request);
        try
        {
            return await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // The caller's own cancellation: the .NET convention, not a broker failure.
            throw new OperationCanceledException("The call was cancelled.", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            throw BrokerException.FromRpc(ex);
        }
    }

    /// <summary>The channel a client with <paramref name="options"/> calls the broker on (the interop tests use it too).</summary>
    internal static GrpcChannel CreateChannel(BrokerClientOptions options, ILoggerFactory loggerFactory) =>
        GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
        {
            // The high-rate streams' bodies are tuned (StreamingCallHandler); disposing the wrapper disposes the
            // handler under it, so a handler the caller gave is left undisposed (DisposeHttpClient false).
            HttpHandler = new StreamingCallHandler(options.HttpMessageHandler ?? CreateHandler()),
            DisposeHttpClient = options.HttpMessageHandler is null,
            // Without a scope per streamed message (see ScopelessLoggerFactory).
            LoggerFactory = loggerFactory is NullLoggerFactory ? loggerFactory : new ScopelessLoggerFactory(loggerFactory),
            // PROTOCOL.md caps a request message at 4 MiB. Refusing a bigger one here, before it leaves, matters:
            // when the broker refuses it mid-upload Kestrel may reset the whole HTTP/2 connection, taking this
            // client's other streams (its Subscribe streams) with it. The caller gets RESOURCE_EXHAUSTED either way.
            MaxSendMessageSize = MaxRequestMessageBytes,
        });

    /// <summary>The largest request message the broker accepts (PROTOCOL.md: "a request message over 4 MiB").</summary>
    private const int MaxRequestMessageBytes = 4 * 1024 * 1024;

    /// <summary>The HTTP/2 handler of a client given none: multiple connections, keep-alive pings, a larger stream window.</summary>
    private static SocketsHttpHandler CreateHandler() => new()
    {
        // A server caps concurrent streams per connection (Kestrel: 100 by default); past the cap, open another
        // connection rather than queue calls behind long-lived streams.
        EnableMultipleHttp2Connections = true,
        // h2c with prior knowledge cannot go through an HTTP proxy, and a backend talks to the broker directly.
        UseProxy = false,
        KeepAlivePingDelay = KeepAlivePingDelay,
        KeepAlivePingTimeout = KeepAlivePingTimeout,
        // grpc-core counts a ping with no call open as a strike (keepalive_permit_without_calls=0).
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        AutomaticDecompression = DecompressionMethods.None,
        InitialHttp2StreamWindowSize = InitialStreamWindowSize,
        // Streams live as long as the caller wants: no idle-connection reaping under them.
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>True for failures a stream reconnects after: the broker unreachable, draining or the connection cut.</summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted or StatusCode.Cancelled,
        IOException or HttpRequestException => true,
        _ => false,
    };
}
