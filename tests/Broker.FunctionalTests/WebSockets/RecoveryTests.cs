using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.WebSockets;

/// <summary>history, subscribe with since, and hello.resume: no gap, no duplicate.</summary>
public class RecoveryTests
{
    private static async Task<List<JsonElement>> PublishMany(TestSocket socket, string channel, int count, int firstId = 100)
    {
        var acks = new List<JsonElement>();
        for (int i = 0; i < count; i++)
        {
            acks.Add(await socket.PublishAsync(channel, new { n = i }, id: firstId + i));
        }

        return acks;
    }

    [Fact]
    public async Task HistoryWithSinceReturnsTheFirstLimitAfterItAndWithoutTheLastLimit()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        var acks = await PublishMany(socket, "room:h", 10);
        string epoch = acks[0].GetProperty("epoch").GetString()!;

        await socket.SendJsonAsync(new { type = "history", id = 6, channel = "room:h", since = new { epoch, offset = 4 }, limit = 3 });
        var history = await socket.ExpectAsync("history");
        Assert.Equal(6, history.GetProperty("id").GetInt64());
        Assert.True(history.GetProperty("recovered").GetBoolean());
        Assert.Equal(10ul, history.GetProperty("offset").GetUInt64());
        Assert.Equal(epoch, history.GetProperty("epoch").GetString());
        Assert.Equal([5ul, 6ul, 7ul], history.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetUInt64()));
        Assert.Equal(4, history.GetProperty("publications")[0].GetProperty("data").GetProperty("n").GetInt32());

        await socket.SendJsonAsync(new { type = "history", id = 7, channel = "room:h", limit = 2 });
        var last = await socket.ExpectAsync("history");
        Assert.Equal([9ul, 10ul], last.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetUInt64()));
    }

    [Fact]
    public async Task SubscribingWithSinceReplaysTheMissedThenLiveWithNoGapOrDuplicate()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (publisher, _) = await server.ConnectAsync("pub");
        var (reader, _) = await server.ConnectAsync("reader");
        await using var _1 = publisher;
        await using var _2 = reader;
        var acks = await PublishMany(publisher, "room:r", 5);
        string epoch = acks[0].GetProperty("epoch").GetString()!;

        var subscribed = await reader.SubscribeAsync("room:r", since: new { epoch, offset = 2 });
        Assert.True(subscribed.GetProperty("recovered").GetBoolean());
        Assert.Equal(5ul, subscribed.GetProperty("offset").GetUInt64());
        await PublishMany(publisher, "room:r", 2, firstId: 200);

        var offsets = new List<ulong>();
        for (int i = 0; i < 5; i++)
        {
            offsets.Add((await reader.ExpectAsync("pub")).GetProperty("offset").GetUInt64());
        }

        Assert.Equal([3ul, 4ul, 5ul, 6ul, 7ul], offsets);
    }

    [Fact]
    public async Task APositionTooOldOrOfAnotherEpochIsNotRecovered()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await PublishMany(socket, "room:x", 2);
        var subscribed = await socket.SubscribeAsync("room:x", since: new { epoch = "gone", offset = 1 });
        Assert.False(subscribed.GetProperty("recovered").GetBoolean());
        Assert.Equal(2ul, subscribed.GetProperty("offset").GetUInt64());
        await socket.ExpectAliveAsync();  // nothing replayed
    }

    [Fact]
    public async Task HelloResumeSubscribesEachChannelAndReplaysWhatWasMissed()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var publisher = await server.ConnectSocketAsync("pub");
        var a = await PublishMany(publisher, "room:a", 3);
        var b = await PublishMany(publisher, "room:b", 2, firstId: 300);
        string epochA = a[0].GetProperty("epoch").GetString()!;
        string epochB = b[0].GetProperty("epoch").GetString()!;

        var resume = new Dictionary<string, object>
        {
            ["room:a"] = new { epoch = epochA, offset = 1 },
            ["room:b"] = new { epoch = epochB, offset = 2 },
            ["news:x"] = new { epoch = "e", offset = 0 },  // not permitted for this user-less session: an error naming it
        };
        var ticket = await server.IssueTicketAsync(userId: null);
        await using var socket = await TestSocket.ConnectAsync(server);
        await socket.SendJsonAsync(new { type = "hello", id = 1, ticket, resume });
        await socket.ExpectAsync("welcome");

        var subscribedA = await socket.ExpectAsync("subscribed");
        Assert.Equal("room:a", subscribedA.GetProperty("channel").GetString());
        Assert.True(subscribedA.GetProperty("recovered").GetBoolean());
        Assert.False(subscribedA.TryGetProperty("id", out _));
        Assert.Equal(2ul, (await socket.ExpectAsync("pub")).GetProperty("offset").GetUInt64());
        Assert.Equal(3ul, (await socket.ExpectAsync("pub")).GetProperty("offset").GetUInt64());

        var subscribedB = await socket.ExpectAsync("subscribed");
        Assert.Equal("room:b", subscribedB.GetProperty("channel").GetString());
        Assert.True(subscribedB.GetProperty("recovered").GetBoolean());

        var error = await socket.ExpectErrorAsync("forbidden");
        Assert.Equal("news:x", error.GetProperty("channel").GetString());
        await socket.ExpectAliveAsync();
    }

    [Fact]
    public async Task AClientThatReconnectsWithItsLastPositionMissesNothing()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var publisher = await server.ConnectSocketAsync("pub");
        var (first, _) = await server.ConnectAsync("reader");
        await first.SubscribeAsync("room:live");
        await PublishMany(publisher, "room:live", 3);
        JsonElement last = default;
        for (int i = 0; i < 3; i++)
        {
            last = await first.ExpectAsync("pub");
        }

        await first.DisposeAsync();
        await PublishMany(publisher, "room:live", 4, firstId: 400);  // missed while away

        var (again, _) = await server.ConnectAsync("reader", resume: new Dictionary<string, object>
        {
            ["room:live"] = new { epoch = last.GetProperty("epoch").GetString(), offset = last.GetProperty("offset").GetUInt64() },
        });
        await using var _2 = again;
        Assert.True((await again.ExpectAsync("subscribed")).GetProperty("recovered").GetBoolean());
        await PublishMany(publisher, "room:live", 1, firstId: 500);  // live after the resume
        var offsets = new List<ulong>();
        for (int i = 0; i < 5; i++)
        {
            offsets.Add((await again.ExpectAsync("pub")).GetProperty("offset").GetUInt64());
        }

        Assert.Equal([4ul, 5ul, 6ul, 7ul, 8ul], offsets);
    }
}
