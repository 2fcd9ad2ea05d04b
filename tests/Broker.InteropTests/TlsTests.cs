using System.Net.Security;
using Grpc.Core;
using Broker.InteropTests.Infrastructure;
using Grpc.Net.Client;
using Interop.V1;

namespace Broker.InteropTests;

/// <summary>gRPC over TLS (HTTP/2 by ALPN) to Grpc.AspNetCore on Kestrel: from the SDK's channel and from python grpcio.</summary>
public sealed class TlsTests(KestrelEchoServer server) : IClassFixture<KestrelEchoServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sdk_UnaryAndBidi_OverTls()
    {
        var thumbprint = server.Certificate.Thumbprint;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            UseProxy = false,
            // Trust exactly the test's self-signed certificate.
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == thumbprint },
        };
        // As a backend sets up the SDK for a broker behind TLS: its own handler in BrokerClientOptions.
        using var channel = Broker.Sdk.BrokerClient.CreateChannel(new Broker.Sdk.BrokerClientOptions { Address = server.TlsAddress, HttpMessageHandler = handler }, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var invoker = channel.CreateCallInvoker();
        using (var unary = invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Message = "tls" }))
        {
            Assert.Equal("tls", (await unary.ResponseAsync.WaitAsync(Timeout)).Message);
        }

        using var bidi = invoker.AsyncDuplexStreamingCall(EchoMethods.Bidi, null, default);
        await bidi.RequestStream.WriteAsync(new EchoRequest { Message = "one" }).WaitAsync(Timeout);
        Assert.True(await bidi.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal("one", bidi.ResponseStream.Current.Message);
        await bidi.RequestStream.CompleteAsync().WaitAsync(Timeout);
        Assert.False(await bidi.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.OK, bidi.GetStatus().StatusCode);
        handler.Dispose();
    }

    [Theory]
    [InlineData("unary")]
    [InlineData("bidi")]
    [InlineData("error")]
    public async Task PythonClient_OverTls(string testCase)
    {
        var r = await PythonClient.RunOverTlsAsync(server, testCase);
        switch (testCase)
        {
            case "unary":
                Assert.Equal("hello", r.GetProperty("message").GetString());
                break;
            case "bidi":
                Assert.Equal("OK", r.GetProperty("code").GetString());
                break;
            default:
                Assert.Equal("INVALID_ARGUMENT", r.GetProperty("unary_code").GetString());
                Assert.Equal(r.GetProperty("detail_sent").GetString(), r.GetProperty("unary_details").GetString());
                break;
        }
    }
}
