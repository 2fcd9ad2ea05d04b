using System.Text.RegularExpressions;
using Broker.BrowserTests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Broker.BrowserTests;

/// <summary>The demo page at <c>/</c>, in Chromium, against the real broker (<see cref="TestBroker"/>): no backend runs, so the page publishes itself.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class DemoPageTests(BrowserFixture browser) : BrowserTest(browser)
{
    public override Task InitializeAsync() => StartBrokerAsync(new Dictionary<string, string?> { ["Broker:MaxMessageBytes"] = "4096" });

    private async Task<BrowserPage> SignInAsync(string name)
    {
        var page = await NewPageAsync();
        await page.Page.GotoAsync("/");
        await page.Page.GetByTestId("name-input").FillAsync(name);
        await page.Page.GetByTestId("signin-button").ClickAsync();
        await Expect(page.Page.GetByTestId("connection-badge")).ToHaveAttributeAsync("data-state", "live");
        await Expect(page.Page.GetByTestId("presence-item").And(page.Page.Locator($"[data-user='{name}']"))).ToBeVisibleAsync();
        return page;
    }

    private static async Task PostAsync(IPage page, string text)
    {
        await page.GetByTestId("composer-input").FillAsync(text);
        await page.GetByTestId("composer-input").PressAsync("Enter");
    }

    [Fact]
    public async Task Two_people_chat_and_see_each_other()
    {
        await using var alice = await SignInAsync("alice");
        var a = alice.Page;
        await Expect(a.GetByTestId("room-button").And(a.Locator("[data-room='lobby']"))).ToHaveAttributeAsync("aria-current", "true");

        await using var bob = await SignInAsync("bob");
        var b = bob.Page;
        foreach (var page in new[] { a, b })
        {
            await Expect(page.GetByTestId("presence-item")).ToHaveCountAsync(2);
            await Expect(page.GetByTestId("presence-item").And(page.Locator("[data-user='alice']"))).ToBeVisibleAsync();
            await Expect(page.GetByTestId("presence-item").And(page.Locator("[data-user='bob']"))).ToBeVisibleAsync();
        }

        await PostAsync(a, "  Hi Bob!  ");
        await Expect(b.GetByTestId("message-text")).ToHaveTextAsync(["Hi Bob!"]);
        await PostAsync(b, "Hey Alice");
        foreach (var page in new[] { a, b })
        {
            var items = page.GetByTestId("message");
            await Expect(items).ToHaveCountAsync(2);
            await Expect(items.Nth(0).GetByTestId("message-text")).ToHaveTextAsync("Hi Bob!");
            await Expect(items.Nth(0)).ToHaveAttributeAsync("data-user", "alice");
            await Expect(items.Nth(1).GetByTestId("message-text")).ToHaveTextAsync("Hey Alice");
            await Expect(items.Nth(1).GetByTestId("message-sender")).ToHaveTextAsync("bob");
            // No backend handles chat.post on a bare broker: the page published itself, and says so.
            await Expect(page.GetByTestId("fallback-note")).ToBeVisibleAsync();
        }

        await Expect(a.GetByTestId("composer-input")).ToHaveValueAsync("");
        await alice.ScreenshotAsync("demo-chat");
        await a.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark }).WaitAsync(BrowserFixture.Timeout);
        await alice.ScreenshotAsync("demo-chat-dark");

        // Bob leaves the lobby for #dev: Alice's presence list drops him.
        await b.GetByTestId("room-button").And(b.Locator("[data-room='dev']")).ClickAsync();
        await Expect(b.GetByTestId("room-title")).ToHaveTextAsync("# dev");
        await Expect(a.GetByTestId("presence-item")).ToHaveCountAsync(1);
        Assert.DoesNotContain("pageerror", alice.ConsoleLog, StringComparison.Ordinal);
        Assert.DoesNotContain("pageerror", bob.ConsoleLog, StringComparison.Ordinal);

        // Nothing from the network but the broker itself: no CDN, no web font.
        Assert.All(alice.RequestedUrls, url => Assert.True(
            url.StartsWith(Server.WebAddress.ToString(), StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), url));
        Assert.Contains(alice.RequestedUrls, url => url.EndsWith("/broker.js", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_backend_notice_to_the_user_shows_as_a_toast()
    {
        await using var alice = await SignInAsync("alice");
        await Server.PublishAsync("$user:alice", new { text = "Your export is ready." }, "notice");
        await Expect(alice.Page.GetByTestId("toast-text").Filter(new LocatorFilterOptions { HasText = "Your export is ready." })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Send_errors_show_inline_and_keep_the_text()
    {
        await using var alice = await SignInAsync("alice");
        var page = alice.Page;
        await PostAsync(page, "   ");
        await Expect(page.GetByTestId("send-error")).ToHaveTextAsync("Write something first.");

        // Over the broker's MaxMessageBytes (4096 here, told in welcome): refused, the draft stays.
        var tooLong = new string('x', 5000);
        await page.GetByTestId("composer-input").EvaluateAsync("(el, v) => { el.value = v; }", tooLong).WaitAsync(BrowserFixture.Timeout);
        await page.GetByTestId("send-button").ClickAsync();
        await Expect(page.GetByTestId("send-error")).ToContainTextAsync("too long");
        await Expect(page.GetByTestId("composer-input")).ToHaveValueAsync(tooLong);
        await Expect(page.GetByTestId("message")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_dropped_page_reconnects_and_shows_every_missed_message_once_in_order()
    {
        await using var alice = await SignInAsync("alice");
        var page = alice.Page;
        var badge = page.GetByTestId("connection-badge");
        await PostAsync(page, "before the outage");
        await Expect(page.GetByTestId("message")).ToHaveCountAsync(1);

        // The backend drops Alice; Bob's messages keep coming, right after the drop and while she is away.
        Assert.Equal(1, Server.Disconnect(null, "alice"));
        await Server.PublishAsync("chat:lobby", new { text = "right after the drop", user = "bob" });
        await Server.PublishAsync("chat:lobby", new { text = "still there?", user = "bob" });
        await Expect(badge).ToHaveAttributeAsync("data-state", "reconnecting");
        await Expect(badge.Locator(".badge-text")).ToHaveTextAsync(ReconnectingText());
        await Server.PublishAsync("chat:lobby", new { text = "while you were away", user = "bob" });
        await Server.PublishAsync("chat:lobby", new { text = "still away?", user = "bob" });

        await Expect(badge).ToHaveAttributeAsync("data-state", "recovered");
        await Expect(badge.Locator(".badge-text")).ToHaveTextAsync(RecoveredText());
        await Expect(page.GetByTestId("missed-divider")).ToHaveTextAsync(MissedText());
        string[] expected = ["before the outage", "right after the drop", "still there?", "while you were away", "still away?"];
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(expected);
        await alice.ScreenshotAsync("demo-recovered");

        await Server.PublishAsync("chat:lobby", new { text = "welcome back", user = "bob" });
        await PostAsync(page, "back");
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync([.. expected, "welcome back", "back"]);
    }

    [Fact]
    public async Task Rooms_show_their_history_and_catch_up_when_entered_again()
    {
        await Server.PublishAsync("chat:random", new { text = "earlier 1", user = "bob" });
        await Server.PublishAsync("chat:random", new { text = "earlier 2", user = "bob" });
        await using var alice = await SignInAsync("alice");
        var page = alice.Page;
        await PostAsync(page, "in the lobby");
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["in the lobby"]);

        await page.GetByTestId("room-button").And(page.Locator("[data-room='random']")).ClickAsync();
        await Expect(page.GetByTestId("room-title")).ToHaveTextAsync("# random");
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["earlier 1", "earlier 2"]);

        // While Alice is in #random, the lobby moves on; back in the lobby she resumes from where she left.
        await Server.PublishAsync("chat:lobby", new { text = "said while away", user = "bob" });
        await page.GetByTestId("room-button").And(page.Locator("[data-room='lobby']")).ClickAsync();
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["in the lobby", "said while away"]);

        // A new room from the form.
        await page.GetByTestId("new-room-input").FillAsync("design");
        await page.GetByTestId("new-room-button").ClickAsync();
        await Expect(page.GetByTestId("room-title")).ToHaveTextAsync("# design");
        await Expect(page.GetByTestId("room-button").And(page.Locator("[data-room='design']"))).ToHaveAttributeAsync("aria-current", "true");
        await Expect(page.GetByTestId("empty-state")).ToBeVisibleAsync();

        await page.SetViewportSizeAsync(390, 844).WaitAsync(BrowserFixture.Timeout);
        await alice.ScreenshotAsync("demo-mobile");
    }

    [Fact]
    public async Task Serves_broker_js_as_an_es_module_and_the_sign_in_page_at_the_root()
    {
        using var http = Server.CreateWebClient();
        using var script = await http.GetAsync(new Uri("broker.js", UriKind.Relative)).WaitAsync(BrowserFixture.Timeout);
        script.EnsureSuccessStatusCode();
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("export class BrokerClient", await script.Content.ReadAsStringAsync().WaitAsync(BrowserFixture.Timeout), StringComparison.Ordinal);

        await using var page = await NewPageAsync();
        await page.Page.GotoAsync("/");
        await Expect(page.Page.GetByTestId("signin-button")).ToBeVisibleAsync();
        await Expect(page.Page.GetByLabel("Your name")).ToBeFocusedAsync();
        await page.Page.GetByTestId("signin-button").ClickAsync();
        await Expect(page.Page.GetByTestId("signin-error")).ToBeVisibleAsync();
        await page.ScreenshotAsync("demo-signin");
    }

    [GeneratedRegex(@"Reconnecting( in \d+s|…)")]
    private static partial Regex ReconnectingText();

    [GeneratedRegex(@"^Recovered [2-4] missed messages$")]
    private static partial Regex RecoveredText();

    [GeneratedRegex(@"^[2-4] missed while you were away$")]
    private static partial Regex MissedText();
}
