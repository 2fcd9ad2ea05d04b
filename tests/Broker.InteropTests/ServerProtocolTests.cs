using System.Net.Http.Headers;
using System.Net;
using Broker.GrpcTransport;
using Broker.Sdk.Transport;
using Google.Protobuf;
using Interop.V1;
using Microsoft.Extensions.Logging;

namespace Broker.InteropTests;

/// <summary>
/// Our server transport at the HTTP/2 level, with a plain HttpClient: what a gRPC client sees byte for byte
/// (trailers-only responses, 415, 426, compression refusal), plus limits and error hiding via the SDK.
/// </summary>
public sealed class ServerProtocolTests : IClassFixture<KestrelEchoServer>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly KestrelEchoServer _server;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false });

    public ServerProtocolTests(KestrelEchoServer server)
    {
        _server = server;
    }

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Success_StatusInTrailers_AfterTheMessage()
    {
        using var response = await SendAsync("/interop.v1.Echo/Unary", Frame(new EchoRequest { Message = "x" }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync().WaitAsync(Timeout);
        Assert.Equal(0, body[0]);
        Assert.Equal("x", EchoReply.Parser.ParseFrom(body.AsSpan(5)).Message);
        Assert.Equal("0", Single(response.TrailingHeaders, "grpc-status"));
        Assert.False(response.Headers.Contains("grpc-status"));
    }

    [Fact]
    public async Task ErrorBeforeAnyMessage_IsTrailersOnly_PercentEncoded()
    {
        using var response = await SendAsync("/interop.v1.Echo/Unary", Frame(new EchoRequest { ErrorCode = 5, ErrorMessage = "nicht gefunden: ü 100%" }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync().WaitAsync(Timeout));
        Assert.Equal("5", Single(response.Headers, "grpc-status"));
        Assert.Equal("nicht gefunden: %C3%BC 100%25", Single(response.Headers, "grpc-message"));
        Assert.Empty(response.TrailingHeaders);
    }

    [Fact]
    public async Task UnknownMethod_Unimplemented_TrailersOnly()
    {
        using var response = await SendAsync("/interop.v1.Echo/Nope", Frame(new EchoRequest()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("12", Single(response.Headers, "grpc-status"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task GrpcTimeout_ServerSendsDeadlineExceeded()
    {
        // A raw client that does not enforce the deadline itself: the status must come from the server.
        using var response = await SendAsync("/interop.v1.Echo/Unary", Frame(new EchoRequest { DelayMs = 20000 }), extraHeader: ("grpc-timeout", "200m"));
        Assert.Equal("4", Single(response.Headers, "grpc-status"));
    }

    [Theory]
    [InlineData("Status503", StatusCode.Unavailable)]
    [InlineData("Html", StatusCode.Unknown)]
    [InlineData("NoStatus", StatusCode.Unknown)]
    public async Task Client_MapsNonGrpcResponses(string name, StatusCode code)
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        var method = new Method<EchoRequest, EchoReply>(MethodType.Unary, "bad.v1.Http", name, EchoRequest.Parser, EchoReply.Parser);
        using var call = channel.CreateCallInvoker().AsyncUnaryCall(method, default, new EchoRequest());
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(code, ex.StatusCode);
    }

    [Fact]
    public async Task Client_DeadlineAlreadyPassed_FailsLocally()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(-1)), new EchoRequest());
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Client_ServerUnreachable_Unavailable()
    {
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:1");
        using var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, default, new EchoRequest());
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    [Fact]
    public async Task Client_BufferedWrites_FlushOnce_AllArrive()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(EchoMethods.Bidi, default);
        await WriteBufferedAsync(call.RequestStream, "b", 9);

        // The tenth write, unbuffered, flushes all ten at once.
        call.RequestStream.WriteOptions = WriteOptions.Default;
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "b9" }).WaitAsync(Timeout);
        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        var count = await ReadEchoesInOrderAsync(call.ResponseStream, "b");

        Assert.Equal(10, count);
    }

    [Fact]
    public async Task Client_BufferedWrites_ThenComplete_AllArrive()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(EchoMethods.Bidi, default);
        await WriteBufferedAsync(call.RequestStream, "c", 5);

        // No unbuffered write: completing the request stream must send the buffered messages before the half-close.
        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        var count = await ReadEchoesInOrderAsync(call.ResponseStream, "c");

        Assert.Equal(5, count);
    }

    [Fact]
    public async Task Server_BufferedWrites_FlushOnce_AllArrive()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoMethods.ServerStream, default, new EchoRequest { Message = "batch", Count = 10 });
        var indices = new List<int>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
        {
            indices.Add(call.ResponseStream.Current.Index);
        }

        Assert.Equal(Enumerable.Range(0, 10), indices);
    }

    [Fact]
    public async Task Server_BufferedWrites_OnAnOpenStream_AllArriveWithoutWaitingForMore()
    {
        // Several whole messages in one read, and the stream stays open: the client must hand out every
        // buffered message at once instead of waiting for bytes that are not coming (a regression test:
        // the reader once marked the whole buffer examined after parsing the first message).
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoMethods.ServerStream, default, new EchoRequest { Message = "batch-hold", Count = 10 });
        for (int i = 0; i < 10; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }
    }

    [Fact]
    public async Task WrongContentType_415()
    {
        using var response = await SendAsync("/interop.v1.Echo/Unary", Frame(new EchoRequest()), "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task GrpcProtoContentType_Accepted()
    {
        using var response = await SendAsync("/interop.v1.Echo/Unary", Frame(new EchoRequest()), "application/grpc+proto");
        await response.Content.ReadAsByteArrayAsync().WaitAsync(Timeout);
        Assert.Equal("0", Single(response.TrailingHeaders, "grpc-status"));
    }

    [Fact]
    public async Task Http11_426()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.Http1Address, "/interop.v1.Echo/Unary"))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = Content(Frame(new EchoRequest()), "application/grpc"),
        };
        using var response = await _http.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
    }

    [Fact]
    public async Task CompressedMessage_UnsupportedEncoding_Unimplemented_AdvertisesIdentity()
    {
        var frame = Frame(new EchoRequest { Message = "x" });
        frame[0] = 1;
        using var response = await SendAsync("/interop.v1.Echo/Unary", frame, extraHeader: ("grpc-encoding", "gzip"));
        Assert.Equal("12", Single(response.Headers, "grpc-status"));
        Assert.Equal("identity", Single(response.Headers, "grpc-accept-encoding"));
    }

    [Fact]
    public async Task CompressedMessage_WithoutEncoding_Internal()
    {
        var frame = Frame(new EchoRequest { Message = "x" });
        frame[0] = 1;
        using var response = await SendAsync("/interop.v1.Echo/Unary", frame);
        Assert.Equal("13", Single(response.Headers, "grpc-status"));
    }

    [Fact]
    public async Task RequestOver4MiB_ResourceExhausted()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, default, new EchoRequest { Payload = ByteString.CopyFrom(new byte[(4 * 1024 * 1024) + 1]) });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task HandlerThrows_Internal_GenericDetail_LoggedAsError()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, default, new EchoRequest { ErrorCode = -1 });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.DoesNotContain("secret", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(_server.Logs.Entries, static e => e.EventId.Name == "HandlerError" && e.Level == LogLevel.Error && e.Exception?.Message == "secret internal detail");
    }

    [Fact]
    public async Task ClientResetMidStream_HandlerTokenFires_NotLoggedAsError()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var cts = new CancellationTokenSource();
        var id = Guid.NewGuid().ToString("N");
        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(EchoMethods.ClientStream, new CallOptions(new Metadata { { "x-call-id", id } }, cancellationToken: cts.Token));
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "a" }).WaitAsync(Timeout);
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "b" }).WaitAsync(Timeout);
        await cts.CancelAsync().WaitAsync(Timeout);
        await _server.Echo.Cancelled(id).WaitAsync(Timeout);
        // Kestrel fails the pending body read before it cancels RequestAborted: still a cancellation, not a bug.
        Assert.DoesNotContain(_server.Logs.Entries, static e => e.EventId.Name == "HandlerError" && e.Exception is IOException);
    }

    [Fact]
    public async Task ResponseHeadersAndTrailers_CustomMetadata_ReachTheClient()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        var bytes = new byte[] { 0, 1, 2, 255, 254 };
        var headers = new Metadata { { "x-echo-bin", bytes } };
        using var call = channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, new CallOptions(headers), new EchoRequest { Message = "m" });
        var responseHeaders = await call.ResponseHeadersAsync.WaitAsync(Timeout);
        Assert.Equal("early", responseHeaders.GetValue("x-header"));
        await call.ResponseAsync.WaitAsync(Timeout);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(bytes, call.GetTrailers().GetValueBytes("x-echo-bin"));
    }

    private async Task<HttpResponseMessage> SendAsync(string path, byte[] body, string contentType = "application/grpc", (string Name, string Value)? extraHeader = null)
    {
        // HttpClient's default version applies only to its helper methods, not to a hand-built request.
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.Address, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = Content(body, contentType),
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (extraHeader is { } h)
        {
            request.Headers.TryAddWithoutValidation(h.Name, h.Value);
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        return response;
    }

    /// <summary>Writes <paramref name="prefix"/>0 … <paramref name="prefix"/>(<paramref name="count"/> - 1), buffered: nothing is flushed yet.</summary>
    private static async Task WriteBufferedAsync(IClientStreamWriter<EchoRequest> requests, string prefix, int count)
    {
        requests.WriteOptions = WriteOptions.Buffered;
        for (var i = 0; i < count; i++)
        {
            await requests.WriteAsync(new EchoRequest { Message = prefix + i }).WaitAsync(Timeout);
        }
    }

    /// <summary>Reads the echoes to the end, asserting they are <paramref name="prefix"/>0, <paramref name="prefix"/>1 … in order; returns how many came.</summary>
    private static async Task<int> ReadEchoesInOrderAsync(IAsyncStreamReader<EchoReply> replies, string prefix)
    {
        var count = 0;
        while (await replies.MoveNext(CancellationToken.None).WaitAsync(Timeout))
        {
            Assert.Equal(prefix + count++, replies.Current.Message);
        }

        return count;
    }

    private static ByteArrayContent Content(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static byte[] Frame(IMessage message)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        GrpcMessageWriter.WriteMessage(buffer, message, int.MaxValue);
        return buffer.WrittenSpan.ToArray();
    }

    private static string? Single(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? Assert.Single(values) : null;
}
