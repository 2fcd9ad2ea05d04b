using System.Text;
using Broker.Core;
using Broker.Engines;
using Broker.Tests.Infrastructure;

namespace Broker.Tests.Engines;

/// <summary>
/// The contract of <see cref="IEngine"/> (its doc comment), as tests. Every engine derives a class from
/// this one and passes all of it: the in-memory engine now, the cluster engine later.
/// </summary>
public abstract class EngineSpecification : IAsyncLifetime
{
    protected static readonly CancellationToken None = CancellationToken.None;

    protected ManualTimeProvider Time { get; } = new();

    protected RecordingHandler Handler { get; } = new();

    protected IEngine Engine { get; private set; } = null!;

    /// <summary>The test namespaces (see <see cref="TestNamespaces"/>): a publish carries its namespace's history options, as the core gives them.</summary>
    private static readonly NamespaceRegistry Namespaces = TestNamespaces.Create();

    /// <summary>Creates a fresh, unstarted engine.</summary>
    protected abstract Task<IEngine> CreateEngineAsync(TimeProvider time);

    public async Task InitializeAsync()
    {
        Engine = await CreateEngineAsync(Time);
        await Engine.StartAsync(Handler, None);
        await WhenReadyAsync(Engine);
    }

    /// <summary>Waits, after start, until the engine can serve (a cluster engine: its backend answered).</summary>
    protected virtual Task WhenReadyAsync(IEngine engine) => Task.CompletedTask;

    public async Task DisposeAsync() => await Engine.DisposeAsync();

    /// <summary>A channel name no other test of this run uses (engines may be shared across tests).</summary>
    protected static string Unique(string ns) => $"{ns}:{Guid.NewGuid():N}";

    protected ValueTask<PublishResult> Publish(string channel, string json = "{}", string? key = null, ClientInfo? from = null) =>
        Engine.PublishAsync(new PublishCommand(channel, "message", Encoding.UTF8.GetBytes(json), from, key, HistoryOf(channel)), None);

    /// <summary>What <paramref name="channel"/>'s namespace keeps, as the core passes it with each publish.</summary>
    protected static HistoryOptions HistoryOf(string channel) => Namespaces.Resolve(channel)!.History;

    [Fact]
    public async Task OffsetsStartAtOneAndCountUpInOneEpoch()
    {
        var channel = Unique("chat");
        var first = await Publish(channel);
        var second = await Publish(channel);
        var third = await Publish(channel);
        Assert.Equal(1ul, first.Position.Offset);
        Assert.Equal(2ul, second.Position.Offset);
        Assert.Equal(3ul, third.Position.Offset);
        Assert.False(string.IsNullOrEmpty(first.Position.Epoch));
        Assert.Equal(first.Position.Epoch, third.Position.Epoch);
        Assert.False(first.Duplicate);
    }

    [Fact]
    public async Task ChannelsAreNumberedIndependently()
    {
        var a = Unique("chat");
        var b = Unique("chat");
        await Publish(a);
        await Publish(a);
        Assert.Equal(1ul, (await Publish(b)).Position.Offset);
    }

    [Fact]
    public async Task HandlerGetsEachPublicationWithItsFields()
    {
        var channel = Unique("chat");
        var from = new ClientInfo("s1", "u1", "c1");
        await Engine.PublishAsync(new PublishCommand(channel, "chat.post", Encoding.UTF8.GetBytes("{\"t\":1}"), from, History: HistoryOf(channel)), None);
        var received = Assert.Single(await Handler.WaitForPublicationsAsync(channel, 1));
        Assert.Equal(channel, received.Channel);
        Assert.Equal("chat.post", received.Event);
        Assert.Equal("{\"t\":1}", Json.Text(received.Data));
        Assert.Equal(1ul, received.Offset);
        Assert.Equal(from, received.From);
        Assert.Equal(Time.GetUtcNow(), received.Time);
    }

    [Fact]
    public async Task HandlerGetsAChannelsPublicationsInOffsetOrderUnderConcurrentPublishers()
    {
        var channel = Unique("chat");
        const int publishers = 8, each = 250;
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < each; i++)
            {
                await Publish(channel);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(30));

        var received = await Handler.WaitForPublicationsAsync(channel, publishers * each);
        Assert.Equal(Enumerable.Range(1, publishers * each).Select(i => (ulong)i), received.Select(p => p.Offset));
    }

    [Fact]
    public async Task PublishesStartedInTurnWithoutAwaitingAreNumberedInTheOrderTheyWereStarted()
    {
        // A pipelined publisher (PublishStream) starts the next publish before the previous one completed.
        var channel = Unique("chat");
        const int count = 300;
        var started = new Task<PublishResult>[count];
        for (int i = 0; i < count; i++)
        {
            started[i] = Publish(channel, i.ToString(System.Globalization.CultureInfo.InvariantCulture)).AsTask();
        }

        var results = await Task.WhenAll(started).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), results.Select(r => r.Position.Offset));
        var received = await Handler.WaitForPublicationsAsync(channel, count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), received.Select(p => Json.Text(p.Data)));
    }

    [Fact]
    public async Task UnpublishedChannelIsAtOffsetZero()
    {
        var read = await Engine.ReadHistoryAsync(Unique("chat"), HistoryQuery.PositionOnly, None);
        Assert.Equal(0ul, read.Position.Offset);
        Assert.Empty(read.Publications);
    }

    [Fact]
    public async Task HistoryKeepsTheNewestHistorySize()
    {
        var channel = Unique("small");  // HistorySize 3
        for (int i = 0; i < 5; i++)
        {
            await Publish(channel, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var read = await Engine.ReadHistoryAsync(channel, new HistoryQuery(null, null), None);
        Assert.Equal([3ul, 4ul, 5ul], read.Publications.Select(p => p.Offset));
        Assert.Equal(5ul, read.Position.Offset);
    }

    [Fact]
    public async Task HistoryWithoutSinceReturnsTheLastLimitOldestFirst()
    {
        var channel = Unique("chat");
        for (int i = 0; i < 10; i++)
        {
            await Publish(channel);
        }

        var read = await Engine.ReadHistoryAsync(channel, new HistoryQuery(null, 4), None);
        Assert.Equal([7ul, 8ul, 9ul, 10ul], read.Publications.Select(p => p.Offset));
        Assert.False(read.Recovered);
    }

    [Fact]
    public async Task HistorySinceReturnsTheFirstLimitAfterItAndRecovers()
    {
        var channel = Unique("chat");
        StreamPosition at = default;
        for (int i = 0; i < 10; i++)
        {
            var result = await Publish(channel);
            if (i == 3)
            {
                at = result.Position;  // offset 4
            }
        }

        var all = await Engine.ReadHistoryAsync(channel, HistoryQuery.After(at), None);
        Assert.True(all.Recovered);
        Assert.Equal(Enumerable.Range(5, 6).Select(i => (ulong)i), all.Publications.Select(p => p.Offset));

        var limited = await Engine.ReadHistoryAsync(channel, new HistoryQuery(at, 2), None);
        Assert.True(limited.Recovered);
        Assert.Equal([5ul, 6ul], limited.Publications.Select(p => p.Offset));
        Assert.Equal(10ul, limited.Position.Offset);
    }

    [Fact]
    public async Task HistorySinceTheCurrentPositionIsRecoveredAndEmpty()
    {
        var channel = Unique("nohistory");
        var top = (await Publish(channel)).Position;
        var read = await Engine.ReadHistoryAsync(channel, HistoryQuery.After(top), None);
        Assert.True(read.Recovered);
        Assert.Empty(read.Publications);
    }

    [Fact]
    public async Task HistorySinceAPositionNoLongerKeptIsNotRecovered()
    {
        var channel = Unique("small");  // keeps 3
        var first = (await Publish(channel)).Position;
        for (int i = 0; i < 5; i++)
        {
            await Publish(channel);
        }

        var read = await Engine.ReadHistoryAsync(channel, HistoryQuery.After(first), None);
        Assert.False(read.Recovered);
        Assert.Equal(6ul, read.Position.Offset);
    }

    [Fact]
    public async Task HistoryWithoutKeepingIsNotRecoveredOnceSomethingWasMissed()
    {
        var channel = Unique("nohistory");
        var first = (await Publish(channel)).Position;
        await Publish(channel);
        var read = await Engine.ReadHistoryAsync(channel, HistoryQuery.After(first), None);
        Assert.False(read.Recovered);
        Assert.Empty(read.Publications);
    }

    [Fact]
    public async Task HistorySinceAnotherEpochIsNotRecovered()
    {
        var channel = Unique("chat");
        await Publish(channel);
        var read = await Engine.ReadHistoryAsync(channel, HistoryQuery.After(new StreamPosition("not-the-epoch", 0)), None);
        Assert.False(read.Recovered);
    }

    [Fact]
    public async Task HistorySinceAPositionAheadOfTheChannelIsNotRecovered()
    {
        var channel = Unique("chat");
        var top = (await Publish(channel)).Position;
        var read = await Engine.ReadHistoryAsync(channel, HistoryQuery.After(top with { Offset = 99 }), None);
        Assert.False(read.Recovered);
    }

    [Fact]
    public async Task HistoryExpiresAfterItsTtl()
    {
        var channel = Unique("chat");  // TTL 5 minutes
        var first = (await Publish(channel)).Position;
        Time.Advance(TimeSpan.FromMinutes(3));
        await Publish(channel);
        Time.Advance(TimeSpan.FromMinutes(3));

        var read = await Engine.ReadHistoryAsync(channel, new HistoryQuery(null, null), None);
        Assert.Equal([2ul], read.Publications.Select(p => p.Offset));
        Assert.False((await Engine.ReadHistoryAsync(channel, HistoryQuery.After(first with { Offset = 0 }), None)).Recovered);
        Assert.True((await Engine.ReadHistoryAsync(channel, HistoryQuery.After(first), None)).Recovered);
    }

    [Fact]
    public async Task ARepeatedIdempotencyKeyWithinAMinutePublishesOnce()
    {
        var channel = Unique("chat");
        var first = await Publish(channel, "1", key: "k1");
        Time.Advance(TimeSpan.FromSeconds(59));
        var repeat = await Publish(channel, "2", key: "k1");
        Assert.True(repeat.Duplicate);
        Assert.Equal(first.Position, repeat.Position);

        var other = await Publish(channel, "3", key: "k2");
        Assert.Equal(2ul, other.Position.Offset);
        var read = await Engine.ReadHistoryAsync(channel, new HistoryQuery(null, null), None);
        Assert.Equal(2, read.Publications.Count);
    }

    [Fact]
    public async Task AnIdempotencyKeyIsForgottenAfterAMinute()
    {
        var channel = Unique("chat");
        await Publish(channel, key: "k");
        Time.Advance(TimeSpan.FromSeconds(61));
        var again = await Publish(channel, key: "k");
        Assert.False(again.Duplicate);
        Assert.Equal(2ul, again.Position.Offset);
    }

    [Fact]
    public async Task IdempotencyKeysArePerChannel()
    {
        await Publish(Unique("chat"), key: "same");
        Assert.False((await Publish(Unique("chat"), key: "same")).Duplicate);
    }

    [Fact]
    public async Task PresenceCountsConnectionsAndJoinsAndLeavesPerUser()
    {
        var channel = Unique("chat");
        var tab1 = new ClientInfo("s1", "u1", "c1");
        var tab2 = new ClientInfo("s1", "u1", "c2");
        var phone = new ClientInfo("s2", "u1", "c3");
        var anonymous = new ClientInfo("s3", null, "c4");
        await Engine.JoinAsync(channel, tab1, None);
        await Engine.JoinAsync(channel, tab2, None);
        await Engine.JoinAsync(channel, phone, None);
        await Engine.JoinAsync(channel, anonymous, None);

        var members = await Engine.GetPresenceAsync(channel, None);
        Assert.Equal(3, members.Count);
        Assert.Contains(new PresenceEntry("s1", "u1", 2), members);
        Assert.Contains(new PresenceEntry("s2", "u1", 1), members);
        Assert.Contains(new PresenceEntry("s3", null, 1), members);

        await Engine.LeaveAsync(channel, tab1, None);
        await Engine.LeaveAsync(channel, phone, None);
        await Engine.LeaveAsync(channel, anonymous, None);
        await Engine.LeaveAsync(channel, tab2, None);

        var events = await Handler.WaitForPresenceAsync(channel, 2);
        Assert.Equal(2, events.Count);
        Assert.True(events[0].Joined);
        Assert.Equal("u1", events[0].UserId);
        Assert.False(events[1].Joined);
        Assert.Empty(await Engine.GetPresenceAsync(channel, None));
    }

    [Fact]
    public async Task TheNodeIsAmongTheLiveNodes()
    {
        Assert.False(string.IsNullOrEmpty(Engine.NodeId));
        Assert.Contains(Engine.NodeId, await Engine.GetNodesAsync(None).AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task ControlMessagesToTheNodeItselfReachItsHandlerInOrder()
    {
        for (int i = 1; i <= 20; i++)
        {
            Assert.True(await Engine.SendControlAsync(Engine.NodeId, Encoding.UTF8.GetBytes($"m{i}"), None).AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
        }

        var received = await Handler.WaitForControlAsync(20);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"m{i}"), received.Select(m => m.Text));
        Assert.All(received, m => Assert.Equal(Engine.NodeId, m.From));
    }

    [Fact]
    public async Task AControlMessageToANodeThatIsNotAliveIsNotDelivered()
    {
        Assert.False(await Engine.SendControlAsync("nobody00", "x"u8.ToArray(), None).AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
    }
}
