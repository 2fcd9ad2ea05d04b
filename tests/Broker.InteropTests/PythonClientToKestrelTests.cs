using System.Text.Json;
using Broker.InteropTests.Infrastructure;

namespace Broker.InteropTests;

/// <summary>A real gRPC client (python grpcio) calling our server transport on real Kestrel over h2c.</summary>
public sealed class PythonClientToKestrelTests(KestrelEchoServer server) : IClassFixture<KestrelEchoServer>
{
    [Fact]
    public async Task Unary_EchoesMessageAndMetadata()
    {
        var r = await RunAsync("unary");
        Assert.Equal("hello", r.GetProperty("message").GetString());
        Assert.Equal("Bearer key-1", r.GetProperty("authorization").GetString());
        Assert.StartsWith("ipv4:127.0.0.1:", r.GetProperty("peer").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientStreaming_ReceivesEveryMessage()
    {
        var r = await RunAsync("client_stream");
        Assert.Equal("a,b,c,d,e", r.GetProperty("message").GetString());
        Assert.Equal(50, r.GetProperty("received_size").GetInt64());
    }

    [Fact]
    public async Task ServerStreaming_SendsEveryMessageInOrder()
    {
        var r = await RunAsync("server_stream");
        Assert.Equal([0, 1, 2, 3, 4], r.GetProperty("indices").EnumerateArray().Select(static e => e.GetInt32()));
    }

    [Fact]
    public async Task Bidi_Interleaved_RepliesToEachRequestBeforeTheNext()
    {
        var r = await RunAsync("bidi");
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], r.GetProperty("messages").EnumerateArray().Select(static e => e.GetString()));
        Assert.Equal(0, r.GetProperty("rest").GetInt32());
        Assert.Equal("OK", r.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Error_StatusAndNonAsciiMessage_ArriveIntact_TrailersOnlyAndAfterMessages()
    {
        var r = await RunAsync("error");
        var sent = r.GetProperty("detail_sent").GetString();
        Assert.Equal("INVALID_ARGUMENT", r.GetProperty("unary_code").GetString());
        Assert.Equal(sent, r.GetProperty("unary_details").GetString());
        Assert.Equal("FAILED_PRECONDITION", r.GetProperty("stream_code").GetString());
        Assert.Equal(sent, r.GetProperty("stream_details").GetString());
        Assert.Equal(2, r.GetProperty("stream_received").GetInt32());
    }

    [Fact]
    public async Task Deadline_Expires_ClientSeesDeadlineExceeded_HandlerTokenFires()
    {
        var id = Guid.NewGuid().ToString("N");
        var r = await RunAsync("deadline", id);
        Assert.Equal("DEADLINE_EXCEEDED", r.GetProperty("code").GetString());
        await server.Echo.Cancelled(id).WaitAsync(PythonClient.Timeout);
    }

    [Fact]
    public async Task ClientCancelsMidStream_HandlerTokenFires()
    {
        var id = Guid.NewGuid().ToString("N");
        var r = await RunAsync("cancel", id);
        Assert.Equal(0, r.GetProperty("first_index").GetInt32());
        Assert.Equal("CANCELLED", r.GetProperty("code").GetString());
        await server.Echo.Cancelled(id).WaitAsync(PythonClient.Timeout);
    }

    [Fact]
    public async Task OneMegabyteMessages_BothWays()
    {
        var r = await RunAsync("large");
        Assert.Equal(1024 * 1024, r.GetProperty("received_size").GetInt64());
        Assert.Equal(1024 * 1024, r.GetProperty("payload_len").GetInt32());
    }

    [Fact]
    public async Task UnknownMethodAndService_Unimplemented()
    {
        var r = await RunAsync("unimplemented");
        Assert.Equal("UNIMPLEMENTED", r.GetProperty("method").GetString());
        Assert.Equal("UNIMPLEMENTED", r.GetProperty("service").GetString());
    }

    [Fact]
    public async Task GzipCompressedRequest_Accepted()
    {
        var r = await RunAsync("compressed");
        Assert.Equal("OK", r.GetProperty("code").GetString());
        Assert.Equal(4096, r.GetProperty("received_size").GetInt64());
    }

    [Fact]
    public async Task MoreThan100ConcurrentStreams_OnOneConnection()
    {
        var r = await RunAsync("concurrent");
        Assert.Equal(300, r.GetProperty("count").GetInt32());
        Assert.Equal(1, r.GetProperty("peers").GetInt32());
        Assert.True(server.Echo.MaxActive > 100, $"at most {server.Echo.MaxActive} streams were open at once");
    }

    private Task<JsonElement> RunAsync(string testCase, string callId = "") => PythonClient.RunAsync(server.Target, testCase, callId);
}
