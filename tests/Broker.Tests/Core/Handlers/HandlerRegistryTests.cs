using System.Collections.Concurrent;
using Broker.Core.Handlers;
using Broker.Core;
using Broker.Engines;
using Broker.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Broker.Tests.Core.Handlers;

public class HandlerRegistryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly ClientInfo Alice = new("s1", "alice", "c1");

    private static HandlerRegistry NewRegistry(TimeSpan? timeout = null) =>
        new(Options.Create(new HandlerOptions { Timeout = timeout ?? TimeSpan.FromSeconds(30), DefaultMaxInFlight = 100 }), TimeProvider.System);

    [Fact]
    public async Task ASendWithNoHandlerIsUnavailable()
    {
        var reply = await NewRegistry().SendAsync("chat.post", Json.Of("{}"), Alice, default).WaitAsync(Wait);
        Assert.Equal(ErrorCodes.Unavailable, reply.ErrorCode);
    }

    [Fact]
    public async Task AHandlerSeesTheCallAndItsSenderAndItsReplyComesBack()
    {
        var registry = NewRegistry();
        var endpoint = new FakeEndpoint();
        var handler = registry.Register("chat", ["chat.post"], 0, endpoint);
        var pending = registry.SendAsync("chat.post", Json.Of("{\"text\":\"hi\"}"), Alice, default);

        var call = await endpoint.NextAsync();
        Assert.Equal("chat.post", call.Event);
        Assert.Equal("{\"text\":\"hi\"}", Json.Text(call.Data));
        Assert.Equal(Alice, call.From);
        Assert.True(call.Deadline > DateTimeOffset.UtcNow);
        Assert.True(registry.Complete(handler, call.Id, new HandlerReply(Json.Of("{\"ok\":true}"))));

        var reply = await pending.WaitAsync(Wait);
        Assert.False(reply.IsError);
        Assert.Equal("{\"ok\":true}", Json.Text(reply.Data));
    }

    [Fact]
    public async Task PrefixesMatchAndTheMostSpecificGroupWins()
    {
        var registry = NewRegistry();
        var broad = new FakeEndpoint();
        var narrow = new FakeEndpoint();
        var exact = new FakeEndpoint();
        registry.Register("all", ["*"], 0, broad);
        registry.Register("chat", ["chat.*"], 0, narrow);
        registry.Register("posts", ["chat.post"], 0, exact);

        _ = registry.SendAsync("chat.post", Json.Of("1"), Alice, default);
        _ = registry.SendAsync("chat.edit", Json.Of("2"), Alice, default);
        _ = registry.SendAsync("other", Json.Of("3"), Alice, default);
        Assert.Equal("chat.post", (await exact.NextAsync()).Event);
        Assert.Equal("chat.edit", (await narrow.NextAsync()).Event);
        Assert.Equal("other", (await broad.NextAsync()).Event);
    }

    [Fact]
    public async Task CallsGoToTheLeastBusyHandlerOfTheGroup()
    {
        var registry = NewRegistry();
        var a = new FakeEndpoint();
        var b = new FakeEndpoint();
        registry.Register("g", ["e"], 0, a);
        registry.Register("g", ["e"], 0, b);
        for (int i = 0; i < 6; i++)
        {
            _ = registry.SendAsync("e", Json.Of("1"), Alice, default);
        }

        Assert.Equal(3, a.Received.Count);
        Assert.Equal(3, b.Received.Count);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task MaxInFlightMakesCallsWaitForCapacityInOrder()
    {
        var registry = NewRegistry();
        var endpoint = new FakeEndpoint();
        var handler = registry.Register("g", ["e"], maxInFlight: 1, endpoint);
        var first = registry.SendAsync("e", Json.Of("1"), Alice, default);
        var second = registry.SendAsync("e", Json.Of("2"), Alice, default);

        var call1 = await endpoint.NextAsync();
        Assert.Single(endpoint.Received);  // the second waits
        registry.Complete(handler, call1.Id, new HandlerReply(Json.Of("\"one\"")));
        var call2 = await endpoint.NextAsync();
        Assert.Equal("2", Json.Text(call2.Data));
        registry.Complete(handler, call2.Id, new HandlerReply(Json.Of("\"two\"")));

        Assert.Equal("\"one\"", Json.Text((await first.WaitAsync(Wait)).Data));
        Assert.Equal("\"two\"", Json.Text((await second.WaitAsync(Wait)).Data));
    }

    [Fact]
    public async Task NoReplyInTimeIsATimeoutAndALateReplyIsIgnored()
    {
        var registry = NewRegistry(timeout: TimeSpan.FromMilliseconds(200));
        var endpoint = new FakeEndpoint();
        var handler = registry.Register("g", ["e"], 0, endpoint);
        var reply = await registry.SendAsync("e", Json.Of("1"), Alice, default).WaitAsync(Wait);
        Assert.Equal(ErrorCodes.Timeout, reply.ErrorCode);

        var call = await endpoint.NextAsync();
        Assert.False(registry.Complete(handler, call.Id, new HandlerReply(Json.Of("1"))));
    }

    [Fact]
    public async Task CallsInFlightWhenAHandlerGoesAwayGoOnceToAnotherOfItsGroup()
    {
        var registry = NewRegistry();
        var first = new FakeEndpoint();
        var second = new FakeEndpoint();
        var third = new FakeEndpoint();
        var h1 = registry.Register("g", ["e"], maxInFlight: 1, first);
        var pending = registry.SendAsync("e", Json.Of("1"), Alice, default);
        var call = await first.NextAsync();
        var h2 = registry.Register("g", ["e"], 0, second);

        registry.Unregister(h1);
        var again = await second.NextAsync();
        Assert.Same(call, again);

        // A second loss is final, even with a handler left to take it.
        registry.Register("g", ["e"], 0, third);
        registry.Unregister(h2);
        Assert.Equal(ErrorCodes.Unavailable, (await pending.WaitAsync(Wait)).ErrorCode);
        Assert.Empty(third.Received);
    }

    [Fact]
    public async Task CallsInFlightFailUnavailableWhenNoHandlerOfTheGroupIsLeft()
    {
        var registry = NewRegistry();
        var endpoint = new FakeEndpoint();
        var other = new FakeEndpoint();
        var handler = registry.Register("g", ["e"], maxInFlight: 1, endpoint);
        registry.Register("other-group", ["e"], 0, other);
        var held = registry.SendAsync("e", Json.Of("1"), Alice, default);
        var waiting = registry.SendAsync("e", Json.Of("2"), Alice, default);
        await endpoint.NextAsync();

        registry.Unregister(handler);
        Assert.Equal(ErrorCodes.Unavailable, (await held.WaitAsync(Wait)).ErrorCode);
        Assert.Equal(ErrorCodes.Unavailable, (await waiting.WaitAsync(Wait)).ErrorCode);
        Assert.Empty(other.Received);
    }

    [Theory]
    [InlineData("", "e")]
    [InlineData("g", "bad event")]
    [InlineData("g", "a*b")]
    public void BadRegistrationsAreRefused(string group, string entry) =>
        Assert.Throws<ArgumentException>(() => NewRegistry().Register(group, [entry], 0, new FakeEndpoint()));

    private sealed class FakeEndpoint : IHandlerEndpoint
    {
        private readonly BlockingCollection<InboundCall> _calls = [];

        public List<InboundCall> Received { get; } = [];

        public bool TryDeliver(InboundCall call)
        {
            lock (Received)
            {
                Received.Add(call);
            }

            _calls.Add(call);
            return true;
        }

        public Task<InboundCall> NextAsync() => Task.Run(() => _calls.Take()).WaitAsync(Wait);
    }
}
