using Broker.Sessions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Broker.FunctionalTests.Sessions;

/// <summary>The cookie attributes that need a request the functional tests cannot make (HTTPS).</summary>
public sealed class SessionResolverTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheCookie_IsSecureExactlyWhenTheRequestIsHttps(bool https)
    {
        using var harness = new TicketServiceHarness();
        var context = new DefaultHttpContext();
        context.Request.Scheme = https ? "https" : "http";

        var session = await harness.Sessions.GetOrCreateAsync(context).AsTask().WaitAsync(BrokerServer.DefaultTimeout);

        var setCookie = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith(SessionResolver.CookieName + "=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(https, setCookie.Contains("secure", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(session.SessionId, setCookie, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACookie_ResolvesToItsSession_AndNoCookieToNull()
    {
        using var harness = new TicketServiceHarness();
        var made = new DefaultHttpContext();
        var session = await harness.Sessions.GetOrCreateAsync(made).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
        var cookie = made.Response.Headers.SetCookie.ToString().Split(';')[0];

        var back = new DefaultHttpContext();
        back.Request.Headers.Cookie = cookie;
        var resolved = await harness.Sessions.ResolveAsync(back).AsTask().WaitAsync(BrokerServer.DefaultTimeout);

        Assert.Equal(session, resolved);
        Assert.Null(await harness.Sessions.ResolveAsync(new DefaultHttpContext()).AsTask().WaitAsync(BrokerServer.DefaultTimeout));
    }

    [Fact]
    public async Task APayloadProtectedForAnotherPurpose_DoesNotResolve()
    {
        using var harness = new TicketServiceHarness();
        var made = new DefaultHttpContext();
        await harness.Sessions.GetOrCreateAsync(made).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
        // Same key ring, other purpose: what an antiforgery token or another app's cookie would be.
        var foreign = harness.DataProtection.CreateProtector("Some.Other.Purpose").Protect("any-key");

        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"{SessionResolver.CookieName}={foreign}";

        Assert.Null(await harness.Sessions.ResolveAsync(context).AsTask().WaitAsync(BrokerServer.DefaultTimeout));
    }
}
