namespace Broker.SdkTests.Functional;

/// <summary><c>Subscribe</c> through the SDK against the real broker.</summary>
public sealed class SubscribeTests
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;

    [Fact]
    public async Task Exact_channel_yields_publications_in_order_after_its_Subscribed()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        await using var subscription = await LiveSubscription.StartAsync(client, ["chat:lobby"]);
        var subscribed = Assert.Single(subscription.Subscribed);
        Assert.Equal("chat:lobby", subscribed.Channel);
        Assert.False(subscribed.Recovered);
        Assert.False(subscribed.Resubscribed);
        Assert.False(subscribed.MayHaveLostPublications);

        for (var i = 1; i <= 5; i++)
        {
            await client.PublishAsync("chat:lobby", new { n = i }, "tick").WaitAsync(Timeout);
        }

        var got = await subscription.TakeAsync(5);
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], got.Select(p => p.Offset));
        Assert.All(got, p => Assert.Equal("tick", p.Event));
        Assert.All(got, p => Assert.Null(p.From));
        Assert.Equal(3, got[2].Deserialize<Tick>()!.N);
        Assert.True(got[0].Time > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Since_replays_the_missed_publications_with_recovered_true()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        var first = await client.PublishAsync("chat:lobby", SdkTestBroker.Json("1")).WaitAsync(Timeout);
        await client.PublishAsync("chat:lobby", SdkTestBroker.Json("2")).WaitAsync(Timeout);
        await client.PublishAsync("chat:lobby", SdkTestBroker.Json("3")).WaitAsync(Timeout);

        await using var subscription = await LiveSubscription.StartAsync(client, ["chat:lobby"], new Dictionary<string, StreamPosition> { ["chat:lobby"] = first.Position });
        Assert.True(Assert.Single(subscription.Subscribed).Recovered);
        Assert.Equal([2UL, 3UL], (await subscription.TakeAsync(2)).Select(p => p.Offset));
        await client.PublishAsync("chat:lobby", SdkTestBroker.Json("4")).WaitAsync(Timeout);
        Assert.Equal(4UL, (await subscription.TakeAsync(1))[0].Offset);
    }

    [Fact]
    public async Task Since_of_another_epoch_is_not_recovered()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        await client.PublishAsync("chat:lobby", SdkTestBroker.Json("1")).WaitAsync(Timeout);
        await using var subscription = await LiveSubscription.StartAsync(client, ["chat:lobby"], new Dictionary<string, StreamPosition> { ["chat:lobby"] = new("not-this-epoch", 1) });
        var subscribed = Assert.Single(subscription.Subscribed);
        Assert.False(subscribed.Recovered);
        Assert.Equal(1UL, subscribed.Position!.Value.Offset);
    }

    [Fact]
    public async Task Prefix_entry_yields_every_matching_channel_once()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        // chat:a matches both entries: it must still come once.
        await using var subscription = await LiveSubscription.StartAsync(client, ["chat:*", "chat:a"]);
        var prefix = subscription.Subscribed.First();
        Assert.Equal("chat:*", prefix.Channel);
        Assert.Null(prefix.Position);
        Assert.False(prefix.Recovered);

        await client.PublishAsync("chat:a", SdkTestBroker.Json("\"a\"")).WaitAsync(Timeout);
        await client.PublishAsync("chat:b", SdkTestBroker.Json("\"b\"")).WaitAsync(Timeout);
        await client.PublishAsync("nohist:c", SdkTestBroker.Json("\"c\"")).WaitAsync(Timeout);
        await client.PublishAsync("chat:a", SdkTestBroker.Json("\"a2\"")).WaitAsync(Timeout);
        var got = await subscription.TakeAsync(3);
        Assert.Equal(["chat:a", "chat:b", "chat:a"], got.Select(p => p.Channel));
        Assert.False(subscription.HasMore);
    }

    [Fact]
    public async Task A_browser_publication_names_its_user_and_connection()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        await using var subscription = await LiveSubscription.StartAsync(client, ["chat:lobby"]);
        var (socket, welcome) = await SdkTestBroker.BrowserAsync(server, client, "heidi");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "publish", id = 2, channel = "chat:lobby", @event = "said", data = new { text = "hi" } });
            await socket.ExpectAsync("ack");
        }

        var publication = Assert.Single(await subscription.TakeAsync(1));
        Assert.Equal("said", publication.Event);
        Assert.NotNull(publication.From);
        Assert.Equal("heidi", publication.From.UserId);
        Assert.Equal(welcome.GetProperty("connectionId").GetString(), publication.From.ConnectionId);
    }

    [Fact]
    public async Task Bad_channel_ends_the_enumeration_with_INVALID_ARGUMENT()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<BrokerException>(async () =>
        {
            await foreach (var _ in client.SubscribeAsync(["not a channel"], cts.Token))
            {
            }
        });
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Wrong_api_key_ends_the_enumeration_with_UNAUTHENTICATED_without_retrying()
    {
        await using var server = await SdkTestBroker.StartAsync(("Broker:Grpc:ApiKeys:0", "s3cret"));
        await using var client = SdkTestBroker.Client(server, o => o.ApiKey = "wrong");
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<BrokerException>(async () =>
        {
            await foreach (var _ in client.SubscribeAsync(["chat:lobby"], cts.Token))
            {
            }
        });
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task Cancellation_ends_the_enumeration()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        using var cts = new CancellationTokenSource();
        var options = new SubscribeOptions { OnSubscribed = _ => cts.Cancel() };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.SubscribeAsync(["chat:lobby"], null, options, cts.Token).WithCancellation(CancellationToken.None))
            {
            }
        }).WaitAsync(Timeout);
    }

    private sealed record Tick(int N);
}
