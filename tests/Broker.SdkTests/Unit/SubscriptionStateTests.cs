using Broker.Sdk.Internal;
using V1 = Broker.V1;

namespace Broker.SdkTests.Unit;

public sealed class SubscriptionStateTests
{
    private static V1.Publication Pub(string channel, ulong offset, string epoch = "e1") => new() { Channel = channel, Offset = offset, Epoch = epoch };

    private static V1.Subscribed Subscribed(string channel, ulong? offset, bool recovered, string epoch = "e1") => new()
    {
        Channel = channel,
        Position = offset is { } o ? new V1.StreamPosition { Epoch = epoch, Offset = o } : null,
        Recovered = recovered,
    };

    [Fact]
    public void First_request_carries_the_callers_since_for_exact_channels_only()
    {
        var state = new SubscriptionState(["chat:a", "chat:*"], new Dictionary<string, StreamPosition> { ["chat:a"] = new("e1", 7) });
        var request = state.BuildRequest(0);
        Assert.Equal(["chat:a", "chat:*"], request.Channels);
        Assert.Equal(7UL, request.Since["chat:a"].Offset);
        Assert.False(request.Since.ContainsKey("chat:*"));
    }

    [Fact]
    public void Resume_request_starts_after_the_last_publication_given()
    {
        var state = new SubscriptionState(["chat:a"], null);
        state.OnSubscribed(Subscribed("chat:a", 3, recovered: false), resubscribed: false);
        Assert.True(state.Accept(Pub("chat:a", 4)));
        Assert.True(state.Accept(Pub("chat:a", 5)));
        var request = state.BuildRequest(0);
        Assert.Equal("e1", request.Since["chat:a"].Epoch);
        Assert.Equal(5UL, request.Since["chat:a"].Offset);
    }

    [Fact]
    public void Before_any_publication_a_resume_starts_from_the_subscribed_position()
    {
        var state = new SubscriptionState(["chat:a"], null);
        state.OnSubscribed(Subscribed("chat:a", 9, recovered: false), resubscribed: false);
        Assert.Equal(9UL, state.BuildRequest(0).Since["chat:a"].Offset);
    }

    [Fact]
    public void A_recovered_subscribed_keeps_our_position_so_the_replay_is_not_dropped()
    {
        var state = new SubscriptionState(["chat:a"], null);
        state.OnSubscribed(Subscribed("chat:a", 0, recovered: false), resubscribed: false);
        Assert.True(state.Accept(Pub("chat:a", 1)));
        // Reconnected: the broker is at 5 and replays 2..5 after this.
        var told = state.OnSubscribed(Subscribed("chat:a", 5, recovered: true), resubscribed: true);
        Assert.False(told.MayHaveLostPublications);
        Assert.True(state.Accept(Pub("chat:a", 2)));
    }

    [Fact]
    public void A_second_subscribed_on_the_same_stream_is_an_epoch_change_that_may_have_lost_publications()
    {
        var state = new SubscriptionState(["chat:a"], null);
        state.BuildRequest(0);
        var first = state.OnSubscribed(Subscribed("chat:a", 3, recovered: false), resubscribed: false);
        Assert.False(first.EpochChanged);
        Assert.False(first.MayHaveLostPublications);

        // The cluster's Redis lost the channel: the broker tells the live stream of the new epoch, unasked.
        var told = state.OnSubscribed(Subscribed("chat:a", 0, recovered: false, epoch: "e2"), resubscribed: false);
        Assert.True(told.EpochChanged);
        Assert.True(told.MayHaveLostPublications);
        Assert.Equal("e2", state.BuildRequest(0).Since["chat:a"].Epoch);
    }

    [Fact]
    public void A_subscribed_naming_a_channel_under_a_prefix_entry_is_an_epoch_change()
    {
        var state = new SubscriptionState(["chat:*"], null);
        state.BuildRequest(0);
        Assert.False(state.OnSubscribed(Subscribed("chat:*", null, recovered: false), resubscribed: false).EpochChanged);

        var told = state.OnSubscribed(Subscribed("chat:b", 0, recovered: false, epoch: "e2"), resubscribed: false);
        Assert.True(told.EpochChanged);
        Assert.True(told.MayHaveLostPublications);
    }

    [Fact]
    public void A_new_stream_starts_with_no_entry_announced()
    {
        var state = new SubscriptionState(["chat:a"], null);
        state.BuildRequest(0);
        state.OnSubscribed(Subscribed("chat:a", 3, recovered: false), resubscribed: false);

        state.BuildRequest(0);
        var again = state.OnSubscribed(Subscribed("chat:a", 3, recovered: true), resubscribed: true);
        Assert.False(again.EpochChanged);
    }

    [Fact]
    public void Duplicates_by_offset_are_dropped_within_an_epoch()
    {
        var state = new SubscriptionState(["chat:a"], null);
        Assert.True(state.Accept(Pub("chat:a", 1)));
        Assert.True(state.Accept(Pub("chat:a", 2)));
        Assert.False(state.Accept(Pub("chat:a", 2)));
        Assert.False(state.Accept(Pub("chat:a", 1)));
        Assert.True(state.Accept(Pub("chat:a", 3)));
    }

    [Fact]
    public void A_new_epoch_is_accepted_from_its_first_offset_and_reported_as_lost()
    {
        var state = new SubscriptionState(["chat:a"], null);
        Assert.True(state.Accept(Pub("chat:a", 40)));
        var told = state.OnSubscribed(Subscribed("chat:a", 0, recovered: false, epoch: "e2"), resubscribed: true);
        Assert.True(told.MayHaveLostPublications);
        Assert.True(state.Accept(Pub("chat:a", 1, epoch: "e2")));
        Assert.Equal("e2", state.BuildRequest(0).Since["chat:a"].Epoch);
    }

    [Fact]
    public void Prefix_entries_resubscribe_without_position_and_are_reported_as_lost_after_a_reconnect()
    {
        var state = new SubscriptionState(["chat:*"], null);
        Assert.True(state.Accept(Pub("chat:x", 1)));
        Assert.Empty(state.BuildRequest(0).Since);
        var told = state.OnSubscribed(Subscribed("chat:*", null, recovered: false), resubscribed: true);
        Assert.Null(told.Position);
        Assert.True(told.MayHaveLostPublications);
        // Channels seen through the prefix still drop duplicates.
        Assert.False(state.Accept(Pub("chat:x", 1)));
    }

    [Fact]
    public void No_channels_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new SubscriptionState([], null));
    }
}
