namespace Broker.SdkTests.Functional;

/// <summary>The pipelined publisher over <c>PublishStream</c> against the real broker.</summary>
public sealed class PublisherTests
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;

    [Fact]
    public async Task Many_in_flight_are_published_and_answered_in_call_order()
    {
        await using var server = await SdkTestBroker.StartAsync(("Broker:Namespaces:chat:HistorySize", "1000"));
        await using var client = SdkTestBroker.Client(server);
        await using var publisher = client.CreatePublisher(maxInFlight: 32);
        var tasks = new List<Task<PublishResult>>();
        for (var i = 1; i <= 500; i++)
        {
            tasks.Add(publisher.PublishAsync("chat:lobby", SdkTestBroker.Json(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        var results = await Task.WhenAll(tasks).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (ulong)i), results.Select(r => r.Offset));
        var history = await client.HistoryAsync("chat:lobby", limit: 1000).WaitAsync(Timeout);
        Assert.Equal(
            Enumerable.Range(1, 500).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            history.Publications.Select(p => System.Text.Encoding.UTF8.GetString(p.Data.Span)));
    }

    [Fact]
    public async Task A_bad_request_fails_only_its_own_task()
    {
        await using var server = await SdkTestBroker.StartAsync(("Broker:MaxMessageBytes", "64"));
        await using var client = SdkTestBroker.Client(server);
        await using var publisher = client.CreatePublisher();
        var good1 = publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("1"));
        var badChannel = publisher.PublishAsync("no good", SdkTestBroker.Json("1"));
        var notJson = publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("{"));
        var tooLarge = publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("\"" + new string('x', 100) + "\""));
        var good2 = publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("2"));

        Assert.Equal(1UL, (await good1.WaitAsync(Timeout)).Offset);
        Assert.Equal("bad_request", (await Assert.ThrowsAsync<BrokerException>(() => badChannel.WaitAsync(Timeout))).ErrorCode);
        Assert.Equal("bad_request", (await Assert.ThrowsAsync<BrokerException>(() => notJson.WaitAsync(Timeout))).ErrorCode);
        var large = await Assert.ThrowsAsync<BrokerException>(() => tooLarge.WaitAsync(Timeout));
        Assert.Equal("too_large", large.ErrorCode);
        Assert.Equal(StatusCode.ResourceExhausted, large.StatusCode);
        Assert.Equal(2UL, (await good2.WaitAsync(Timeout)).Offset);
    }

    [Fact]
    public async Task At_most_MaxInFlight_are_sent_unanswered_and_PublishAsync_waits_when_the_queue_behind_them_is_full()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var proxy = new TcpProxy(server.GrpcAddress);
        await using var client = SdkTestBroker.Client(proxy.Address);
        await using var watcher = SdkTestBroker.Client(server);
        await using var published = await LiveSubscription.StartAsync(watcher, ["chat:lobby"]);
        await using var publisher = client.CreatePublisher(maxInFlight: 2);
        // Open the stream first so the pause holds replies, not the connection setup.
        await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("0")).WaitAsync(Timeout);
        await published.TakeAsync(1);

        proxy.PauseDownstream();
        var inFlight = new[] { publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("1")), publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("2")) };
        var queued = new[] { publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("3")), publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("4")) };
        // Two reach the broker; their replies are held, so no slot frees and the next two stay queued.
        Assert.Equal([2UL, 3UL], (await published.TakeAsync(2)).Select(p => p.Offset));
        using var waitLimit = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        // A fifth finds the publisher full and gives up when its token fires: it was never queued.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("5"), cancellationToken: waitLimit.Token).WaitAsync(Timeout));
        Assert.False(published.HasMore, "Only MaxInFlight publications may be sent before a reply.");
        Assert.All(inFlight.Concat(queued), t => Assert.False(t.IsCompleted));

        proxy.Resume();
        Assert.Equal([2UL, 3UL, 4UL, 5UL], (await Task.WhenAll(inFlight.Concat(queued)).WaitAsync(Timeout)).Select(r => r.Offset));
        Assert.Equal(6UL, (await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("6")).WaitAsync(Timeout)).Offset);
    }

    [Fact]
    public async Task A_broken_stream_retries_keyed_publications_once_each_and_fails_the_others_as_retriable()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var proxy = new TcpProxy(server.GrpcAddress);
        await using var client = SdkTestBroker.Client(proxy.Address);
        await using var watcher = SdkTestBroker.Client(server);
        await using var published = await LiveSubscription.StartAsync(watcher, ["chat:lobby"]);
        await using var publisher = client.CreatePublisher();
        await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("0")).WaitAsync(Timeout);
        Assert.Equal(1UL, (await published.TakeAsync(1))[0].Offset);

        // The broker gets both and publishes both; their replies are held and then the connection is cut.
        proxy.PauseDownstream();
        var keyed = publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("\"keyed\""), idempotencyKey: "key-1");
        var plain = publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("\"plain\""));
        var seen = await published.TakeAsync(2);
        proxy.CutAll();
        proxy.Resume();

        // The plain one was published, but the publisher cannot know: it says so with a retriable failure.
        var error = await Assert.ThrowsAsync<BrokerException>(() => plain.WaitAsync(Timeout));
        Assert.True(error.IsRetriable, error.ToString());
        // The keyed one is re-sent on a new stream; the broker knows the key and answers with the first position.
        var result = await keyed.WaitAsync(Timeout);
        Assert.Equal(seen.Single(p => p.Data.Span.SequenceEqual("\"keyed\""u8)).Offset, result.Offset);
        Assert.True(proxy.Accepted >= 2);

        // The publisher goes on, and the keyed publication exists once.
        Assert.Equal(4UL, (await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("\"after\"")).WaitAsync(Timeout)).Offset);
        var history = await client.HistoryAsync("chat:lobby").WaitAsync(Timeout);
        Assert.Single(history.Publications, p => p.Data.Span.SequenceEqual("\"keyed\""u8));
    }

    [Fact]
    public async Task A_wrong_api_key_fails_each_publication_with_UNAUTHENTICATED()
    {
        await using var server = await SdkTestBroker.StartAsync(("Broker:Grpc:ApiKeys:0", "s3cret"));
        await using var client = SdkTestBroker.Client(server, o => o.ApiKey = "wrong");
        await using var publisher = client.CreatePublisher();
        var error = await Assert.ThrowsAsync<BrokerException>(() => publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("1")).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.False(error.IsRetriable);
        error = await Assert.ThrowsAsync<BrokerException>(() => publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("2"), idempotencyKey: "k").WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task Dispose_waits_for_the_replies_due()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        var publisher = client.CreatePublisher();
        var tasks = Enumerable.Range(0, 50).Select(_ => publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("1"))).ToList();
        await publisher.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("1")));
    }
}
