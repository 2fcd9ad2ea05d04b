using Broker.GrpcTransport;
using Broker.Sdk.Transport;

namespace Broker.Sdk;

/// <summary>
/// A backend's connection to the broker over gRPC (PROTOCOL.md, "gRPC transport"): publish
/// (<see cref="PublishAsync(string, ReadOnlyMemory{byte}, string?, string?, CancellationToken)"/>, or pipelined with
/// <see cref="CreatePublisher"/>), subscribe with automatic resume (<see cref="SubscribeAsync(IEnumerable{string}, IReadOnlyDictionary{string, StreamPosition}?, SubscribeOptions?, CancellationToken)"/>),
/// handle browser <c>send</c> frames (<see cref="HandleAsync(string, IEnumerable{string}, Func{HandlerContext, CancellationToken, ValueTask{HandlerResult}}, HandlerOptions, CancellationToken)"/>), and the admin calls
/// (<see cref="IssueTicketAsync"/>, <see cref="DisconnectAsync"/>, <see cref="HistoryAsync"/>, <see cref="PresenceAsync"/>).
/// Thread-safe; create one per broker and share it (calls multiplex over its HTTP/2 connections).
/// Failures surface as <see cref="BrokerException"/>.
/// </summary>
public sealed partial class BrokerClient : IAsyncDisposable, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly Metadata _headers;
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Creates a client; no connection is made until the first call.</summary>
    /// <param name="options">The settings; checked with <see cref="BrokerClientOptions.Validate"/>.</param>
    public BrokerClient(BrokerClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _channel = GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions { HttpHandler = options.HttpMessageHandler });
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

    /// <summary>Cancelled when the client is disposed.</summary>
    internal CancellationToken DisposedToken => _disposed.Token;

    private async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>
        where TResponse : class, Google.Protobuf.IMessage<TResponse>
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        using var call = _invoker.AsyncUnaryCall(method, UnaryOptions(cancellationToken), request);
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

    /// <summary>True for failures a stream reconnects after: the broker unreachable, draining or the connection cut.</summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted or StatusCode.Cancelled,
        IOException or HttpRequestException => true,
        _ => false,
    };
}
