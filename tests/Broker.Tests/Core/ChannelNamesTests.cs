using Broker.Core;

namespace Broker.Tests.Core;

public class ChannelNamesTests
{
    [Theory]
    [InlineData("chat:lobby", ChannelKind.Regular)]
    [InlineData("lobby", ChannelKind.Regular)]
    [InlineData("a:b:c", ChannelKind.Regular)]
    [InlineData("x@y#z/w=v-u_t.s", ChannelKind.Regular)]
    [InlineData("$session:abc-DEF_1", ChannelKind.Session)]
    [InlineData("$user:u42", ChannelKind.User)]
    [InlineData("", ChannelKind.Invalid)]
    [InlineData("chat lobby", ChannelKind.Invalid)]
    [InlineData("chat:lobby*", ChannelKind.Invalid)]
    [InlineData("caf\u00e9", ChannelKind.Invalid)]
    [InlineData("$session:", ChannelKind.Invalid)]
    [InlineData("$user:", ChannelKind.Invalid)]
    [InlineData("$other:x", ChannelKind.Invalid)]
    [InlineData("$broker:stats", ChannelKind.BrokerStats)]
    [InlineData("$broker:other", ChannelKind.Invalid)]
    [InlineData("$", ChannelKind.Invalid)]
    [InlineData("$session:a b", ChannelKind.Invalid)]
    public void ClassifiesChannels(string channel, ChannelKind expected) => Assert.Equal(expected, ChannelNames.Classify(channel));

    [Fact]
    public void ChannelNamesAreAtMost255Bytes()
    {
        Assert.Equal(ChannelKind.Regular, ChannelNames.Classify(new string('a', 255)));
        Assert.Equal(ChannelKind.Invalid, ChannelNames.Classify(new string('a', 256)));
        Assert.Equal(ChannelKind.Session, ChannelNames.Classify("$session:" + new string('a', 255 - 9)));
        Assert.Equal(ChannelKind.Invalid, ChannelNames.Classify("$session:" + new string('a', 256 - 9)));
    }

    [Theory]
    [InlineData("message", true)]
    [InlineData("chat.post", true)]
    [InlineData("a:b-c_d", true)]
    [InlineData("", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("a@b", false)]
    public void ValidatesEvents(string name, bool valid) => Assert.Equal(valid, ChannelNames.IsValidEvent(name));

    [Fact]
    public void EventNamesAreAtMost64Bytes()
    {
        Assert.True(ChannelNames.IsValidEvent(new string('e', 64)));
        Assert.False(ChannelNames.IsValidEvent(new string('e', 65)));
    }

    [Theory]
    [InlineData("chat:lobby", "chat")]
    [InlineData("a:b:c", "a")]
    [InlineData("lobby", "")]
    [InlineData("$session:x", "$session")]
    public void NamespaceIsTheTextBeforeTheFirstColon(string channel, string ns) => Assert.Equal(ns, ChannelNames.GetNamespace(channel).ToString());

    [Fact]
    public void PersonalChannelNames()
    {
        Assert.Equal("$session:s1", ChannelNames.ForSession("s1"));
        Assert.Equal("$user:u1", ChannelNames.ForUser("u1"));
    }
}
