using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text;
using Broker.FunctionalTests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Broker.V1;

namespace Broker.FunctionalTests.Lifecycle;

/// <summary>
/// The broker as operators run it: <c>dotnet Broker.dll</c> in its own process, stopped by a real SIGTERM,
/// with a live WebSocket and a live gRPC Subscribe (PROTOCOL.md, "Running the broker").
/// </summary>
public class SigtermTests
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task SigtermDrainsLiveClientsAndExitsWithinTheDrainTimeout()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;  // SIGTERM is a POSIX signal
        }

        int webPort = FreePort();
        int grpcPort = FreePort();
        using var broker = StartBroker(webPort, grpcPort);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        broker.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            // The host's own line once every endpoint listens: the signal that the broker is up.
            if (e.Data?.Contains("Application started", StringComparison.Ordinal) == true)
            {
                started.TrySetResult();
            }
        };
        broker.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        broker.BeginOutputReadLine();
        broker.BeginErrorReadLine();
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

            using var channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{grpcPort}/"));
            var invoker = channel.CreateCallInvoker();
            var options = new CallOptions(new Metadata(), DateTime.UtcNow + TimeSpan.FromSeconds(60));
            var ticket = await invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, options, new IssueTicketRequest { UserId = "alice" }).ResponseAsync.WaitAsync(BrokerServer.DefaultTimeout);

            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{webPort}/ws"), CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);
            await SendAsync(socket, JsonSerializer.Serialize(new { type = "hello", id = 1, ticket = ticket.Ticket }));
            Assert.Equal("welcome", (await ReceiveFrameAsync(socket)).GetProperty("type").GetString());

            using var subscribe = invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, options, new SubscribeRequest { Channels = { "chat:a" } });
            Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
            Assert.Equal("chat:a", subscribe.ResponseStream.Current.Subscribed.Channel);

            var signalled = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", broker.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync().WaitAsync(BrokerServer.DefaultTimeout);
                Assert.Equal(0, kill.ExitCode);
            }

            // The socket: `disconnect` with reconnect, then the close frame with 1001.
            JsonElement frame;
            do
            {
                frame = await ReceiveFrameAsync(socket);
            }
            while (frame.GetProperty("type").GetString() != "disconnect");
            Assert.Equal(1001, frame.GetProperty("code").GetInt32());
            Assert.True(frame.GetProperty("reconnect").GetBoolean());
            var closed = await Assert.ThrowsAsync<WebSocketClosedException>(() => ReceiveFrameAsync(socket));
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Status);  // 1001 "going away"

            // The gRPC stream: UNAVAILABLE.
            var ended = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout))
                {
                }
            });
            Assert.Equal(StatusCode.Unavailable, ended.StatusCode);

            // The process: gone within the drain timeout (plus the runtime's own exit).
            await broker.WaitForExitAsync().WaitAsync(DrainTimeout + TimeSpan.FromSeconds(5));
            Assert.True(signalled.Elapsed < DrainTimeout + TimeSpan.FromSeconds(5), $"exited after {signalled.Elapsed}");
            Assert.Equal(0, broker.ExitCode);
        }
        catch (Exception) when (Dump(output))
        {
            throw;
        }
        finally
        {
            if (!broker.HasExited)
            {
                broker.Kill(entireProcessTree: true);
            }
        }
    }

    private static Process StartBroker(int webPort, int grpcPort)
    {
        // The broker as built beside these tests: src/Broker/bin/<configuration>/<tfm>/Broker.dll.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = testOutput.Name;
        string configuration = testOutput.Parent!.Name;
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Broker.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        string brokerDirectory = Path.Combine(root.FullName, "src", "Broker", "bin", configuration, tfm);
        string brokerDll = Path.Combine(brokerDirectory, "Broker.dll");
        Assert.True(File.Exists(brokerDll), $"{brokerDll} is not built");

        var start = new ProcessStartInfo("dotnet", [brokerDll])
        {
            WorkingDirectory = brokerDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Kestrel__Endpoints__Web__Url"] = $"http://127.0.0.1:{webPort}";
        start.Environment["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpcPort}";
        start.Environment["Broker__DrainTimeout"] = DrainTimeout.ToString();
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        return Process.Start(start)!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task SendAsync(ClientWebSocket socket, string frame) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);

    /// <summary>The next message's first frame (the broker coalesces frames with <c>\n</c>; this test's frames come one by one or are skipped).</summary>
    private static async Task<JsonElement> ReceiveFrameAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        int length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        if (result.MessageType == WebSocketMessageType.Close)
        {
            throw new WebSocketClosedException(socket.CloseStatus, socket.CloseStatusDescription);
        }

        string text = Encoding.UTF8.GetString(buffer, 0, length);
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        return JsonDocument.Parse(newline < 0 ? text : text[..newline]).RootElement.Clone();
    }

    private static bool Dump(StringBuilder output)
    {
        lock (output)
        {
            Console.Error.WriteLine("broker output:\n" + output);
        }

        return false;
    }
}
