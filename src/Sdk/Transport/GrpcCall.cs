using System.IO.Pipelines;
using System.Net.Http.Headers;
using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Sdk.Transport;

/// <summary>
/// One client call over HttpClient: sends the request (one framed message, or a body held open for a request
/// stream), reads the response headers, messages and trailers, and settles the call's single final status,
/// whichever comes first: the server's status, a protocol error, the deadline, cancellation or disposal.
/// </summary>
internal sealed class GrpcCall<TRequest, TResponse> : IClientCall
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _callCts = new();
    private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // How many already-received messages one read parses ahead: bounds the memory a burst holds parsed.
    private const int MaxReadBatch = 128;

    // The response body's pipe buffer: a read from HttpClient's stream fills up to this, so a burst of small
    // messages arrives in a few reads instead of one per 4 KiB (the default).
    private const int ReadBufferSize = 64 * 1024;

    private readonly Lock _lock = new();
    // Messages parsed ahead by the last read; only the single reader touches it.
    private readonly Queue<TResponse> _readAhead = new();
    private volatile bool _ended;
    private PushStreamContent? _pushContent;
    private HttpResponseMessage? _response;
    private PipeReader? _reader;
    private Task _responseStarted = Task.CompletedTask;
    private Timer? _deadlineTimer;
    private CancellationTokenRegistration _userCancellation;
    private Status? _status;
    private Metadata? _trailers;
    private string? _messageEncoding;

    public GrpcCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        ResponseStream = new ClientCallStreamReader<TRequest, TResponse>(this);
    }

    public Task<Metadata> ResponseHeadersAsync => _headers.Task;

    public IClientStreamWriter<TRequest>? RequestStream { get; private set; }

    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    /// <summary>Cancelled when the call ends early (deadline, cancellation, disposal, failure): resets the stream.</summary>
    internal CancellationToken CallToken => _callCts.Token;

    internal int MaxSendMessageSize => _channel.Options.MaxSendMessageSize;

    public void Start(TRequest? request)
    {
        var httpRequest = new HttpRequestMessage(HttpMethod.Post, new Uri(_method.FullName, UriKind.Relative))
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var headers = httpRequest.Headers;
        // Required by the spec: it tells proxies that the client understands trailers, where gRPC puts the status.
        headers.TryAddWithoutValidation(GrpcProtocol.TeHeader, GrpcProtocol.TrailersValue);
        headers.TryAddWithoutValidation(GrpcProtocol.UserAgentHeader, GrpcChannel.UserAgent);
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.IdentityEncoding);
        if (_options.Headers is { } metadata)
        {
            AddMetadata(headers, metadata);
        }

        if (request is not null)
        {
            try
            {
                httpRequest.Content = new UnaryRequestContent(request, _channel.Options.MaxSendMessageSize);
            }
            catch (RpcException ex)
            {
                httpRequest.Dispose();
                Finish(ex.Status, null, fromServer: false);
                return;
            }
        }
        else
        {
            _pushContent = new PushStreamContent();
            httpRequest.Content = _pushContent;
            RequestStream = new ClientCallStreamWriter<TRequest, TResponse>(this, _pushContent);
        }

        if (_options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            var timeout = deadline.ToUniversalTime() - DateTime.UtcNow;
            if (timeout <= TimeSpan.Zero)
            {
                // Already past: fail locally without a round trip, as grpc-core does.
                httpRequest.Dispose();
                Finish(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), null, fromServer: false);
                return;
            }

            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(timeout));
            // Enforced locally too: the server's DEADLINE_EXCEEDED may never come (server gone, network cut).
            _deadlineTimer = new Timer(static state => ((GrpcCall<TRequest, TResponse>)state!).Cancel(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")), this, ClampTimer(timeout), Timeout.InfiniteTimeSpan);
        }

        if (_options.CancellationToken.CanBeCanceled)
        {
            _userCancellation = _options.CancellationToken.UnsafeRegister(static state => ((GrpcCall<TRequest, TResponse>)state!).Cancel(new Status(StatusCode.Cancelled, "Call canceled by the client.")), this);
        }

        // Not awaited: for a request stream the body stays open while the response arrives (full duplex);
        // ResponseHeadersRead returns at the response headers so messages are read as they come.
        var send = _channel.HttpClient.SendAsync(httpRequest, HttpCompletionOption.ResponseHeadersRead, _callCts.Token);
        _responseStarted = ReceiveHeadersAsync(send, httpRequest);
    }

    public Status GetStatus()
    {
        lock (_lock)
        {
            return _status ?? throw new InvalidOperationException("Unable to get the status because the call is not complete.");
        }
    }

    public Metadata GetTrailers()
    {
        lock (_lock)
        {
            return _status is null
                ? throw new InvalidOperationException("Unable to get the trailers because the call is not complete.")
                : _trailers ?? Metadata.Empty;
        }
    }

    public void Dispose()
    {
        Cancel(new Status(StatusCode.Cancelled, "gRPC call disposed."));
        _deadlineTimer?.Dispose();
        _userCancellation.Dispose();
        _response?.Dispose();
    }

    /// <summary>Reads the single response of a unary or client-streaming call, then the status.</summary>
    public async Task<TResponse> GetSingleResponseAsync()
    {
        var message = await ReadMessageAsync(CancellationToken.None);
        if (message is null)
        {
            // Status OK without a message: the server broke the unary contract.
            Finish(new Status(StatusCode.Internal, "Failed to deserialize response message: the response had no message."), null, fromServer: false);
            throw new RpcException(GetStatus(), GetTrailers());
        }

        if (await ReadMessageAsync(CancellationToken.None) is not null)
        {
            Cancel(new Status(StatusCode.Internal, "The response had more than one message for a single-response method."));
            throw new RpcException(GetStatus(), GetTrailers());
        }

        return message;
    }

    /// <summary>
    /// A message parsed ahead by an earlier read, if any and the call has not ended: the common case on a busy
    /// stream, served without an await. Single reader only.
    /// </summary>
    internal bool TryReadAhead([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TResponse? message)
    {
        if (!_ended && _readAhead.TryDequeue(out message))
        {
            return true;
        }

        message = null;
        return false;
    }

    /// <summary>The next response message, or null at the end of a call that ended OK; throws the status otherwise.</summary>
    internal async Task<TResponse?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        await _responseStarted;
        // A cancelled read goes on to the pipe, which throws: cancelling a read cancels the call, read ahead or not.
        if (!cancellationToken.IsCancellationRequested && TryReadAhead(out var ahead))
        {
            return ahead;
        }

        PipeReader? reader;
        lock (_lock)
        {
            reader = _reader;
            // OK is only settled at the end of the response, so any settled status means no more messages.
            if (_status is { } ended)
            {
                return ended.StatusCode == StatusCode.OK ? null : throw new RpcException(ended, _trailers ?? Metadata.Empty);
            }
        }

        TResponse? message = null;
        try
        {
            bool read;
            if (cancellationToken.CanBeCanceled)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(_callCts.Token, cancellationToken);
                read = await GrpcMessageReader.ReadMessagesAsync(reader!, _method.ResponseParser, _channel.Options.MaxReceiveMessageSize, _messageEncoding, _readAhead, MaxReadBatch, linked.Token);
            }
            else
            {
                read = await GrpcMessageReader.ReadMessagesAsync(reader!, _method.ResponseParser, _channel.Options.MaxReceiveMessageSize, _messageEncoding, _readAhead, MaxReadBatch, _callCts.Token);
            }

            if (read)
            {
                message = _readAhead.Dequeue();
            }
        }
        catch (RpcException ex)
        {
            // A framing error (too large, bad flag, unparsable) ends the call here: reset the stream.
            Cancel(ex.Status);
            throw new RpcException(GetStatus(), GetTrailers());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !_callCts.IsCancellationRequested)
        {
            // Only this read was cancelled, by its own token: as Grpc.Net.Client, that cancels the call.
            Cancel(new Status(StatusCode.Cancelled, "Call canceled by the client."));
            throw new RpcException(GetStatus(), GetTrailers());
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            Cancel(new Status(StatusCode.Unavailable, "Error reading next message. " + ex.Message));
            throw new RpcException(GetStatus(), GetTrailers());
        }

        if (message is not null)
        {
            return message;
        }

        // End of the body: the status is in the trailers.
        var trailingHeaders = _response!.TrailingHeaders;
        var status = ReadStatus(trailingHeaders, out var trailers)
            ?? new Status(StatusCode.Unknown, "No grpc-status found on response.");
        Finish(status, trailers);
        var final = GetStatus();
        return final.StatusCode == StatusCode.OK ? null : throw new RpcException(final, GetTrailers());
    }

    /// <summary>Ends the call early: settles the status and resets the HTTP/2 stream if it is still open.</summary>
    internal void Cancel(Status status)
    {
        if (!Finish(status, null, fromServer: false))
        {
            return;
        }

        try
        {
            // Cancelling the request makes HttpClient send RST_STREAM(CANCEL); disposing the response does the
            // same once the headers are in.
            _callCts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        _response?.Dispose();
    }

    /// <summary>
    /// Settles the final status once; false when it was already settled. <paramref name="fromServer"/>: the
    /// server ended the call, so an open request body may end gracefully; otherwise it is aborted (reset).
    /// </summary>
    private bool Finish(Status status, Metadata? trailers, bool fromServer = true)
    {
        lock (_lock)
        {
            if (_status is not null)
            {
                return false;
            }

            _status = status;
            _trailers = trailers;
            _ended = true;
        }

        // The call is over: release the timer and the caller's token registration now, not at Dispose, since
        // an awaited unary call is often never disposed and the caller's token may live for the whole app.
        _deadlineTimer?.Dispose();
        _userCancellation.Dispose();
        var error = new RpcException(status, trailers ?? Metadata.Empty);
        if (_headers.TrySetException(error))
        {
            // Observed here so a caller that never looks at the headers leaves no unobserved task exception.
            _ = _headers.Task.Exception;
        }

        // Writers waiting for a body that will never start fail with the status; an open body is ended.
        _pushContent?.Fail(error);
        if (fromServer)
        {
            _pushContent?.Complete();
        }
        else
        {
            _pushContent?.Abort();
        }

        return true;
    }

    internal Status? StatusOrNull
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    private async Task ReceiveHeadersAsync(Task<HttpResponseMessage> send, HttpRequestMessage request)
    {
        HttpResponseMessage response;
        try
        {
            response = await send;
        }
        catch (Exception ex)
        {
            // Cancellation or deadline settled the status already; otherwise the server could not be reached.
            Finish(new Status(StatusCode.Unavailable, "Error starting gRPC call. " + ex.Message), null, fromServer: false);
            request.Dispose();
            return;
        }

        lock (_lock)
        {
            _response = response;
        }

        if (StatusOrNull is not null)
        {
            // Ended while the headers were on their way (e.g. disposed): release the stream.
            response.Dispose();
            return;
        }

        var headerStatus = ReadStatus(response.Headers, out var headerMetadata);
        _headers.TrySetResult(headerMetadata);
        if (headerStatus is { } trailersOnly)
        {
            // Trailers-only response: the status came in the HEADERS that ended the stream.
            Finish(trailersOnly, headerMetadata);
            return;
        }

        if (response.StatusCode != System.Net.HttpStatusCode.OK)
        {
            var code = (int)response.StatusCode;
            Cancel(new Status(GrpcProtocol.MapHttpStatus(code), $"Bad gRPC response. HTTP status code: {code}"));
            return;
        }

        var contentType = response.Content.Headers.ContentType?.ToString();
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            // Not a gRPC response (a proxy's page, say): HTTP 200 maps to UNKNOWN in the HTTP-to-gRPC table.
            Cancel(new Status(StatusCode.Unknown, $"Bad gRPC response. Invalid content-type value: {contentType}"));
            return;
        }

        if (response.Headers.TryGetValues(GrpcProtocol.EncodingHeader, out var encodings))
        {
            _messageEncoding = string.Join(',', encodings);
        }

        try
        {
            var stream = await response.Content.ReadAsStreamAsync(_callCts.Token);
            lock (_lock)
            {
                _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadBufferSize));
            }
        }
        catch (Exception ex)
        {
            Cancel(new Status(StatusCode.Unavailable, "Error reading the response. " + ex.Message));
        }
    }

    /// <summary>The status in a header block, or null; <paramref name="metadata"/> gets the custom headers.</summary>
    private static Status? ReadStatus(HttpHeaders headers, out Metadata metadata)
    {
        metadata = new Metadata();
        string? statusValue = null;
        string? message = null;
        foreach (var header in headers.NonValidated)
        {
            if (string.Equals(header.Key, GrpcProtocol.StatusHeader, StringComparison.OrdinalIgnoreCase))
            {
                statusValue = header.Value.ToString();
                continue;
            }

            if (string.Equals(header.Key, GrpcProtocol.MessageHeader, StringComparison.OrdinalIgnoreCase))
            {
                message = header.Value.ToString();
                continue;
            }

            if (GrpcProtocol.IsReservedHeader(header.Key))
            {
                continue;
            }

            var key = header.Key.ToLowerInvariant();
            var binary = Metadata.Entry.IsBinaryKey(key);
            foreach (var value in header.Value)
            {
                if (binary)
                {
                    metadata.Add(key, DecodeBase64(value));
                }
                else
                {
                    metadata.Add(key, value);
                }
            }
        }

        if (statusValue is null)
        {
            return null;
        }

        if (!GrpcProtocol.TryParseStatusCode(statusValue, out var code))
        {
            return new Status(StatusCode.Unknown, $"Unexpected grpc-status value: {statusValue}");
        }

        return new Status(code, message is null ? string.Empty : PercentEncoding.Decode(message));
    }

    private static void AddMetadata(HttpRequestHeaders headers, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            if (GrpcProtocol.IsReservedHeader(entry.Key))
            {
                // The transport owns these (content-type, te, grpc-timeout...): a caller must not override them.
                continue;
            }

            headers.TryAddWithoutValidation(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
    }

    /// <summary>Decodes a -bin header value; senders may omit the base64 padding (PROTOCOL-HTTP2.md).</summary>
    private static byte[] DecodeBase64(string value)
    {
        var padding = (4 - (value.Length % 4)) % 4;
        return Convert.FromBase64String(padding == 0 ? value : value + new string('=', padding));
    }

    // System.Threading.Timer accepts at most 0xfffffffe ms (about 49.7 days); a longer deadline never fires locally.
    private static TimeSpan ClampTimer(TimeSpan timeout)
    {
        var max = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
        return timeout > max ? Timeout.InfiniteTimeSpan : timeout;
    }
}
