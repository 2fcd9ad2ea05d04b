using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

public sealed class SessionIdentifiersTests
{
    [Fact]
    public void SessionIds_AreRandomUrlSafeAndFitAChannelName()
    {
        var ids = Enumerable.Range(0, 1000).Select(static _ => SessionIdentifiers.NewSessionId()).ToList();

        Assert.All(ids, static id => Assert.Matches("^[A-Za-z0-9_-]{24}$", id)); // 24 chars = 144 bits
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, static id => Assert.True(SessionIdentifiers.IsWellFormedSessionId(id)));
    }

    [Theory]
    [InlineData("u42")]
    [InlineData("a")]
    [InlineData("alice@example.com")]
    [InlineData("tenant:7/user#3=x_y.z-w")]
    public void ValidUserIds(string userId) => Assert.True(SessionIdentifiers.IsValidUserId(userId));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a b")]
    [InlineData("ü")]
    [InlineData("a*")]
    [InlineData("a$b")]
    [InlineData("a\0")]
    public void InvalidUserIds(string? userId) => Assert.False(SessionIdentifiers.IsValidUserId(userId));

    [Fact]
    public void AUserId_IsAtMost128Characters()
    {
        Assert.True(SessionIdentifiers.IsValidUserId(new string('x', 128)));
        Assert.False(SessionIdentifiers.IsValidUserId(new string('x', 129)));
    }
}
