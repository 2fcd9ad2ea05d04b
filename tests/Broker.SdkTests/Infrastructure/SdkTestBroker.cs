using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;

namespace Broker.SdkTests.Infrastructure;

/// <summary>The broker configuration the SDK tests run against, and helpers to make clients and browser sockets.</summary>
public static class SdkTestBroker
{
    /// <summary>How long a test waits for any one step.</summary>
    public static TimeSpan Timeout => BrokerServer.DefaultTimeout;

    /// <summary>chat: history 100 and presence; nohist: no history. Extra settings override.</summary>
    public static Task<BrokerServer> StartAsync(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Broker:Namespaces:chat:HistorySize"] = "100",
            ["Broker:Namespaces:chat:Presence"] = "true",
            ["Broker:Namespaces:chat:Subscribe"] = "anyone",
            ["Broker:Namespaces:chat:Publish"] = "anyone",
            ["Broker:Namespaces:nohist:Subscribe"] = "anyone",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return BrokerServer.StartAsync(settings);
    }

    /// <summary>A client of <paramref name="address"/> (the broker's or a proxy's) with fast reconnects for tests.</summary>
    public static BrokerClient Client(Uri address, Action<BrokerClientOptions>? configure = null)
    {
        var options = new BrokerClientOptions
        {
            Address = address,
            // Fast reconnects keep resume tests short; the jitter is still exercised.
            ReconnectMinBackoff = TimeSpan.FromMilliseconds(20),
            ReconnectMaxBackoff = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(options);
        return new BrokerClient(options);
    }

    /// <summary>A client of the broker's gRPC endpoint.</summary>
    public static BrokerClient Client(BrokerServer server, Action<BrokerClientOptions>? configure = null) => Client(server.GrpcAddress, configure);

    /// <summary>A browser socket that has said hello with a ticket from <see cref="BrokerClient.IssueTicketAsync"/>; returns it and its welcome.</summary>
    public static async Task<(TestSocket Socket, JsonElement Welcome)> BrowserAsync(BrokerServer server, BrokerClient client, string? userId)
    {
        var ticket = await client.IssueTicketAsync(userId: userId).WaitAsync(Timeout);
        var socket = await TestSocket.ConnectAsync(server);
        await socket.SendJsonAsync(new { type = "hello", id = 1, ticket = ticket.Ticket });
        var welcome = await socket.ExpectAsync("welcome");
        return (socket, welcome);
    }

    /// <summary>
    /// Polls a condition every 20 ms until it holds, failing after <see cref="Timeout"/>. Only for states the broker
    /// exposes no signal for (its log); everything else awaits a real signal.
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < Timeout, "The condition did not hold in time.");
            await Task.Delay(20);
        }
    }

    /// <summary>UTF-8 bytes of a JSON text.</summary>
    public static ReadOnlyMemory<byte> Json(string json) => System.Text.Encoding.UTF8.GetBytes(json);

    /// <summary>Reads <paramref name="count"/> publications from a subscription, with a timeout.</summary>
    public static async Task<List<Publication>> TakeAsync(IAsyncEnumerator<Publication> enumerator, int count)
    {
        var list = new List<Publication>(count);
        while (list.Count < count)
        {
            Assert.True(await enumerator.MoveNextAsync().AsTask().WaitAsync(Timeout), "The subscription ended early.");
            list.Add(enumerator.Current);
        }

        return list;
    }
}
