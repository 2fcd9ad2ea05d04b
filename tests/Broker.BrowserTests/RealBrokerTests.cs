using Broker.BrowserTests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Broker.BrowserTests;

/// <summary>
/// The real broker serves broker.js and the demo page. The WebSocket side lands on another branch:
/// when it does, the tests of <see cref="BrokerJsTests"/> and <see cref="DemoPageTests"/> move here
/// with <see cref="RealBrokerServer"/> in place of the fake.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RealBrokerTests(BrowserFixture browser)
{
    [Fact]
    public async Task Serves_broker_js_as_an_es_module_and_the_demo_page_at_the_root()
    {
        await using var broker = await RealBrokerServer.StartAsync();
        using var http = new HttpClient { BaseAddress = broker.BaseUri, Timeout = BrowserFixture.Timeout };
        using var script = await http.GetAsync("broker.js");
        script.EnsureSuccessStatusCode();
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("export class BrokerClient", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var page = await browser.NewPageAsync(broker.BaseUri);
        await page.Page.GotoAsync("/");
        await Expect(page.Page.GetByTestId("signin-button")).ToBeVisibleAsync();
        // The module graph loaded: the page wired its form (the sign-in button is inside it).
        Assert.True(await page.Page.EvaluateAsync<bool>("async () => typeof (await import('/broker.js')).BrokerClient === 'function'").WaitAsync(BrowserFixture.Timeout));
    }
}
