namespace Broker.SdkTests.Functional;

/// <summary>
/// The SDK's resume: a subscriber whose connection drops (cut by a TCP proxy between it and the broker) or whose
/// broker restarts, while a publisher keeps publishing.
/// </summary>
public sealed class ResumeTests
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;

    [Fact]
    public async Task A_subscriber_cut_off_repeatedly_mid_flight_gets_every_publication_once_in_order()
    {
        const int Total = 600;
        await using var server = await SdkTestBroker.StartAsync(("Broker:Namespaces:chat:HistorySize", "1000"));
        await using var proxy = new TcpProxy(server.GrpcAddress);
        await using var subscriberClient = SdkTestBroker.Client(proxy.Address);
        await using var publisherClient = SdkTestBroker.Client(server);
        await using var subscription = await LiveSubscription.StartAsync(subscriberClient, ["chat:lobby"]);

        // Publish continuously from another connection while the subscriber's connection is cut three times.
        var publishing = Task.Run(async () =>
        {
            await using var publisher = publisherClient.CreatePublisher(maxInFlight: 8);
            for (var i = 1; i <= Total; i++)
            {
                await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        });

        var received = new List<Publication>();
        for (var cut = 1; cut <= 3; cut++)
        {
            received.AddRange(await subscription.TakeAsync(Total / 6));
            proxy.CutAll();
            // The next Subscribed is the resubscription after this cut.
            await subscription.WaitSubscribedAsync(1 + cut);
        }

        await publishing.WaitAsync(Timeout);
        received.AddRange(await subscription.TakeAsync(Total - received.Count));

        Assert.Equal(Enumerable.Range(1, Total).Select(i => (ulong)i), received.Select(p => p.Offset));
        Assert.Equal(
            Enumerable.Range(1, Total).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            received.Select(p => System.Text.Encoding.UTF8.GetString(p.Data.Span)));
        Assert.False(subscription.HasMore);
        Assert.True(subscription.Reconnects >= 3);
        // Every resubscription recovered: nothing was lost, and the SDK did not claim otherwise.
        Assert.All(subscription.Subscribed.Skip(1), s => Assert.True(s.Resubscribed && s.Recovered && !s.MayHaveLostPublications, s.ToString()));
    }

    [Fact]
    public async Task A_subscriber_reconnects_while_the_broker_is_unreachable_and_resumes_when_it_is_back()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var proxy = new TcpProxy(server.GrpcAddress);
        await using var subscriberClient = SdkTestBroker.Client(proxy.Address);
        await using var publisher = SdkTestBroker.Client(server);
        await using var subscription = await LiveSubscription.StartAsync(subscriberClient, ["chat:lobby"]);
        await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("1")).WaitAsync(Timeout);
        Assert.Equal(1UL, (await subscription.TakeAsync(1))[0].Offset);

        // Nothing listens on port 1: every reconnect fails (UNAVAILABLE) until the proxy points back at the broker.
        proxy.Retarget(new Uri("http://127.0.0.1:1"));
        proxy.CutAll();
        await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("2")).WaitAsync(Timeout);
        await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("3")).WaitAsync(Timeout);
        var acceptedWhileDown = proxy.Accepted;
        proxy.Retarget(server.GrpcAddress);

        Assert.Equal([2UL, 3UL], (await subscription.TakeAsync(2)).Select(p => p.Offset));
        Assert.True(subscription.Subscribed.Last().Recovered);
        Assert.True(acceptedWhileDown >= 1);
    }

    [Fact]
    public async Task After_a_broker_restart_the_subscriber_is_told_it_lost_publications_and_goes_on_in_the_new_epoch()
    {
        var first = await SdkTestBroker.StartAsync();
        await using var proxy = new TcpProxy(first.GrpcAddress);
        await using var subscriberClient = SdkTestBroker.Client(proxy.Address);
        await using var subscription = await LiveSubscription.StartAsync(subscriberClient, ["chat:lobby"]);
        string oldEpoch;
        await using (var publisher = SdkTestBroker.Client(first))
        {
            for (var i = 1; i <= 3; i++)
            {
                await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json("1")).WaitAsync(Timeout);
            }

            var before = await subscription.TakeAsync(3);
            oldEpoch = before[0].Epoch;
        }

        // The in-memory broker restarts (here: a new one takes over): its history and epoch are new. The connection
        // is cut first: the broker does not end gRPC streams when it stops yet (see BrokerBugTests).
        proxy.Retarget(new Uri("http://127.0.0.1:1"));
        proxy.CutAll();
        // The broker's log is the only signal that it has let go of the stream (it offers no event to wait on).
        await SdkTestBroker.WaitUntilAsync(() => first.Log.Entries.Any(e => e.EventId.Name == "SubscribeStreamEnded"));
        await first.DisposeAsync();
        await using var second = await SdkTestBroker.StartAsync();
        proxy.Retarget(second.GrpcAddress);
        await subscription.WaitSubscribedAsync(2);
        var resubscribed = subscription.Subscribed.Last();
        Assert.True(resubscribed.Resubscribed);
        Assert.False(resubscribed.Recovered);
        Assert.True(resubscribed.MayHaveLostPublications);
        Assert.NotEqual(oldEpoch, resubscribed.Position!.Value.Epoch);

        // Offsets start again at 1 in the new epoch: not mistaken for duplicates of the old 1..3.
        await using var newPublisher = SdkTestBroker.Client(second);
        await newPublisher.PublishAsync("chat:lobby", SdkTestBroker.Json("\"new\"")).WaitAsync(Timeout);
        var after = Assert.Single(await subscription.TakeAsync(1));
        Assert.Equal(1UL, after.Offset);
        Assert.Equal(resubscribed.Position!.Value.Epoch, after.Epoch);

        // Before the second broker stops: it does not end open streams when stopping yet (see BrokerBugTests).
        await subscription.DisposeAsync();
    }
}
