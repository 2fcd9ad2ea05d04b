using System.Net.Sockets;
using System.Net;
using System.Runtime.CompilerServices;
using Broker.GrpcTransport;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Broker.Grpc.Transport;

/// <summary>The <see cref="ServerCallContext"/> of a call served by Kestrel: one per call.</summary>
internal sealed class HttpServerCallContext : ServerCallContext, IDisposable
{
    // CancellationTokenSource.CancelAfter takes at most uint.MaxValue - 1 ms (about 49.7 days); a longer
    // timeout is treated as no deadline at all, which no client can tell apart.
    private static readonly TimeSpan MaxTimerTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly HttpContext _http;
    // Our own source rather than RequestAborted itself: Kestrel fails a pending body read on RST_STREAM before
    // it cancels RequestAborted (that happens on the thread pool), so the reader cancels this one first.
    private readonly CancellationTokenSource _cts = new();
    private readonly CancellationTokenRegistration _abortRegistration;
    private readonly Timer? _deadlineTimer;
    private volatile bool _clientAborted;
    private volatile bool _deadlineExpired;
    private Metadata? _requestHeaders;
    private Metadata? _responseTrailers;

    public HttpServerCallContext(HttpContext http, string method, GrpcTransportOptions options)
    {
        _http = http;
        Method = method;
        Options = options;
        MessageEncoding = http.Request.Headers[GrpcProtocol.EncodingHeader].ToString();
        Deadline = DateTime.MaxValue;
        _abortRegistration = http.RequestAborted.UnsafeRegister(static state => ((HttpServerCallContext)state!).OnClientAborted(), this);
        var timeoutHeader = http.Request.Headers[GrpcProtocol.TimeoutHeader];
        if (timeoutHeader.Count == 1 && GrpcTimeout.TryParse(timeoutHeader[0], out var timeout) && timeout < MaxTimerTimeout)
        {
            Deadline = DateTime.UtcNow + timeout;
            _deadlineTimer = new Timer(static state => ((HttpServerCallContext)state!).OnDeadline(), this, timeout, Timeout.InfiniteTimeSpan);
        }
    }

    public GrpcTransportOptions Options { get; }

    /// <summary>The request's <c>grpc-encoding</c>, or empty.</summary>
    public string MessageEncoding { get; }

    /// <summary>Whether a response message has been written (flushed or not), which rules out trailers-only.</summary>
    public bool ResponseBodyStarted { get; set; }

    public bool DeadlineExpired => _deadlineExpired;

    /// <summary>Whether the client reset the stream or dropped the connection.</summary>
    public bool ClientAborted => _clientAborted || _http.RequestAborted.IsCancellationRequested;

    public override string Method { get; }

    public override string Host => _http.Request.Host.Value ?? string.Empty;

    public override string Peer => FormatPeer(_http.Connection.RemoteIpAddress, _http.Connection.RemotePort);

    public override DateTime Deadline { get; }

    public override Metadata RequestHeaders => _requestHeaders ??= ReadRequestHeaders(_http.Request.Headers);

    public override CancellationToken CancellationToken => _cts.Token;

    public override Metadata ResponseTrailers => _responseTrailers ??= new Metadata();

    public override Status Status { get; set; } = Status.DefaultSuccess;

    public override WriteOptions? WriteOptions { get; set; }

    public override HttpContext GetHttpContext() => _http;

    public override async Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        if (_http.Response.HasStarted || ResponseBodyStarted)
        {
            throw new InvalidOperationException("Response headers can only be sent once per call, before the first message.");
        }

        AddMetadata(_http.Response.Headers, responseHeaders);
        await _http.Response.StartAsync(CancellationToken);
    }

    /// <summary>Prepares the response headers and lifts Kestrel's per-request limits for streaming calls.</summary>
    public void Initialize(MethodType type)
    {
        _http.Response.ContentType = GrpcProtocol.ContentType;
        // We only implement identity; saying so lets a client that compresses know what we accept.
        _http.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;

        // A gRPC request body is a stream of messages each checked against MaxReceiveMessageSize; Kestrel's
        // 30 MB body cap would cut a long client stream, so it is lifted for every call.
        if (_http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }

        if (type is MethodType.ClientStreaming or MethodType.DuplexStreaming or MethodType.ServerStreaming)
        {
            // A stream may idle for hours between messages; Kestrel's minimum data rates would abort it.
            if (_http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRequestRate)
            {
                minRequestRate.MinDataRate = null;
            }

            if (_http.Features.Get<IHttpMinResponseDataRateFeature>() is { } minResponseRate)
            {
                minResponseRate.MinDataRate = null;
            }
        }
    }

    /// <summary>
    /// Reads the next request message, or null at the end of the request stream. A body read that fails
    /// because the client reset the stream becomes a cancellation of the call, never an end of stream or a
    /// handler error.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // once per message: no box per awaited read
    public async ValueTask<T?> ReadMessageAsync<T>(Google.Protobuf.MessageParser<T> parser, CancellationToken token)
        where T : class, Google.Protobuf.IMessage<T>
    {
        try
        {
            return await GrpcMessageReader.ReadMessageAsync(_http.Request.BodyReader, parser, Options.MaxReceiveMessageSize, MessageEncoding, token);
        }
        catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && !token.IsCancellationRequested))
        {
            throw ClientReset(ex);
        }
    }

    /// <summary>
    /// Reads the whole request messages already received (at least one, up to <paramref name="maxCount"/>) into
    /// <paramref name="messages"/>; false at the end of the request stream. Failures as <see cref="ReadMessageAsync{T}"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // once per batch: no box per awaited read
    public async ValueTask<bool> ReadMessagesAsync<T>(Google.Protobuf.MessageParser<T> parser, Queue<T> messages, int maxCount, CancellationToken token)
        where T : class, Google.Protobuf.IMessage<T>
    {
        try
        {
            return await GrpcMessageReader.ReadMessagesAsync(_http.Request.BodyReader, parser, Options.MaxReceiveMessageSize, MessageEncoding, messages, maxCount, token);
        }
        catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && !token.IsCancellationRequested))
        {
            throw ClientReset(ex);
        }
    }

    /// <summary>
    /// A body read or write failed because the client reset the stream: marks the call aborted and returns the
    /// cancellation to throw (a reset is the client cancelling, not a handler error).
    /// </summary>
    public OperationCanceledException ClientReset(Exception cause)
    {
        OnClientAborted();
        return new OperationCanceledException("The client cancelled the call.", cause, CancellationToken);
    }

    public void OnClientAborted()
    {
        _clientAborted = true;
        Cancel();
    }

    public void Dispose()
    {
        _abortRegistration.Dispose();
        _deadlineTimer?.Dispose();
        _cts.Dispose();
    }

    private void OnDeadline()
    {
        _deadlineExpired = true;
        Cancel();
    }

    /// <summary>Cancels the call's token on the server's behalf (the broker draining); the handler chooses the status.</summary>
    public void CancelByServer() => Cancel();

    private void Cancel()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call already ended: a late timer or abort callback has nothing left to cancel.
        }
    }

    /// <summary>Copies metadata into HTTP headers; binary values base64-encoded as the spec asks.</summary>
    public static void AddMetadata(IHeaderDictionary headers, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            var value = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;
            headers.Append(entry.Key, value);
        }
    }

    private static Metadata ReadRequestHeaders(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var header in headers)
        {
            if (GrpcProtocol.IsReservedHeader(header.Key))
            {
                continue;
            }

            var binary = Metadata.Entry.IsBinaryKey(header.Key);
            foreach (var value in header.Value)
            {
                if (value is null)
                {
                    continue;
                }

                if (binary)
                {
                    // Kestrel joins repeated headers only in StringValues, so each value is one header field.
                    metadata.Add(header.Key, DecodeBase64(value));
                }
                else
                {
                    metadata.Add(header.Key, value);
                }
            }
        }

        return metadata;
    }

    /// <summary>Decodes a -bin header value; senders may omit the base64 padding (PROTOCOL-HTTP2.md).</summary>
    internal static byte[] DecodeBase64(string value)
    {
        var padding = (4 - (value.Length % 4)) % 4;
        return Convert.FromBase64String(padding == 0 ? value : value + new string('=', padding));
    }

    private static string FormatPeer(IPAddress? address, int port)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; gRPC peers name them ipv4.
            address = address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"ipv6:[{address}]:{port}"
            : $"ipv4:{address}:{port}";
    }
}
