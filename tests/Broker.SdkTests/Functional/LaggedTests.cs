namespace Broker.SdkTests.Functional;

/// <summary>A subscriber slower than its broker-side buffer: the broker drops its oldest, and the SDK reports it.</summary>
public sealed class LaggedTests
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;

    [Fact]
    public async Task Dropped_publications_are_reported_with_OnLagged_right_before_the_first_after_the_gap()
    {
        const int Total = 400;
        await using var server = await SdkTestBroker.StartAsync(("Broker:Namespaces:chat:HistorySize", "1000"));
        await using var client = SdkTestBroker.Client(server);
        var events = new List<object>();
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new SubscribeOptions
        {
            // A 4-publication buffer at the broker: once HTTP/2 flow control stops its writes, it drops the oldest.
            Buffer = 4,
            OnSubscribed = _ => subscribed.TrySetResult(),
            OnLagged = lagged => events.Add(lagged),
        };
        using var stop = new CancellationTokenSource(Timeout);
        await using var enumerator = client.SubscribeAsync(["chat:lobby"], null, options, stop.Token).GetAsyncEnumerator(stop.Token);
        var first = enumerator.MoveNextAsync();
        await subscribed.Task.WaitAsync(Timeout);

        // 2 KB each: 800 KB, far more than the HTTP/2 windows and Kestrel's buffers hold while nobody reads.
        var data = SdkTestBroker.Json("\"" + new string('x', 2048) + "\"");
        await using (var publisher = client.CreatePublisher())
        {
            var tasks = Enumerable.Range(0, Total).Select(_ => publisher.PublishAsync("chat:lobby", data)).ToList();
            await Task.WhenAll(tasks).WaitAsync(Timeout);
        }

        Assert.True(await first.AsTask().WaitAsync(Timeout));
        events.Add(enumerator.Current);
        while (enumerator.Current.Offset < Total)
        {
            Assert.True(await enumerator.MoveNextAsync().AsTask().WaitAsync(Timeout));
            events.Add(enumerator.Current);
        }

        var lags = events.OfType<ChannelLagged>().ToList();
        Assert.NotEmpty(lags);
        var received = events.OfType<Publication>().ToList();
        Assert.Equal((ulong)Total, (ulong)received.Count + lags.Aggregate(0UL, (sum, l) => sum + l.Dropped));
        // Each notice comes right before the first publication after its gap, and names the last dropped one.
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is ChannelLagged lag)
            {
                var next = Assert.IsType<Publication>(events[i + 1]);
                Assert.Equal(next.Offset - 1, lag.LastDropped!.Value.Offset);
                var before = events.Take(i).OfType<Publication>().LastOrDefault()?.Offset ?? 0;
                Assert.Equal(next.Offset - before - 1, lag.Dropped);
            }
        }
    }
}
