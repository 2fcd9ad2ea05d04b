using Broker.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Broker.FunctionalTests.Sessions;

public sealed class OriginPolicyTests
{
    [Theory]
    [InlineData(null, null, OriginDecision.Allowed)] // not a browser
    [InlineData("https://broker.example", null, OriginDecision.Allowed)]
    [InlineData("https://BROKER.example:443", "same-origin", OriginDecision.Allowed)] // default port, any case
    [InlineData("http://broker.example", null, OriginDecision.ForeignOrigin)] // other scheme
    [InlineData("https://broker.example:8443", null, OriginDecision.ForeignOrigin)] // other port
    [InlineData("https://evil.example", null, OriginDecision.ForeignOrigin)]
    [InlineData("null", null, OriginDecision.ForeignOrigin)]
    [InlineData("https://broker.example", "cross-site", OriginDecision.CrossSite)]
    [InlineData(null, "cross-site", OriginDecision.CrossSite)]
    [InlineData(null, "same-site", OriginDecision.Allowed)]
    public void WithoutAList_OnlyTheRequestsOwnOriginIsAllowed(string? origin, string? fetchSite, OriginDecision expected)
    {
        var policy = Policy();

        Assert.Equal(expected, policy.Evaluate(Request("https", "broker.example", origin, fetchSite)));
    }

    [Fact]
    public void WithAList_OnlyListedOriginsAreAllowed()
    {
        var policy = Policy("https://app.example", "http://localhost:5173/");

        Assert.Equal(OriginDecision.Allowed, policy.Evaluate(Request("https", "broker.example", "https://app.example", null)));
        Assert.Equal(OriginDecision.Allowed, policy.Evaluate(Request("https", "broker.example", "http://localhost:5173", null)));
        Assert.Equal(OriginDecision.ForeignOrigin, policy.Evaluate(Request("https", "broker.example", "https://broker.example", null)));
    }

    [Fact]
    public void TheWebSocketCheck_IgnoresSecFetchSite_ButNotTheOrigin()
    {
        var policy = Policy("https://app.other");

        Assert.Equal(OriginDecision.Allowed, policy.Evaluate(Request("https", "broker.example", "https://app.other", "cross-site"), checkFetchSite: false));
        Assert.Equal(OriginDecision.ForeignOrigin, policy.Evaluate(Request("https", "broker.example", "https://evil.example", "cross-site"), checkFetchSite: false));
        Assert.Equal(OriginDecision.CrossSite, policy.Evaluate(Request("https", "broker.example", "https://app.other", "cross-site")));
    }

    [Fact]
    public void TheDefaultOrigin_IncludesANonDefaultPort()
    {
        var policy = Policy();

        Assert.Equal(OriginDecision.Allowed, policy.Evaluate(Request("http", "127.0.0.1:8080", "http://127.0.0.1:8080", null)));
        Assert.Equal(OriginDecision.ForeignOrigin, policy.Evaluate(Request("http", "127.0.0.1:8080", "http://127.0.0.1", null)));
        Assert.Equal(OriginDecision.Allowed, policy.Evaluate(Request("http", "[::1]:8080", "http://[::1]:8080", null)));
    }

    [Fact]
    public void TwoOriginHeaders_AreRefused()
    {
        var policy = Policy();
        var request = Request("https", "broker.example", null, null);
        request.Headers.Origin = new(["https://broker.example", "https://evil.example"]);

        Assert.Equal(OriginDecision.ForeignOrigin, policy.Evaluate(request));
    }

    private static OriginPolicy Policy(params string[] allowed) =>
        new(Options.Create(new BrokerSessionOptions { AllowedOrigins = [.. allowed] }), NullLogger<OriginPolicy>.Instance);

    private static HttpRequest Request(string scheme, string host, string? origin, string? fetchSite)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString(host);
        context.Request.Path = "/tickets";
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        if (fetchSite is not null)
        {
            context.Request.Headers["Sec-Fetch-Site"] = fetchSite;
        }

        return context.Request;
    }
}
