using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Broker.BrowserTests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Broker.BrowserTests;

/// <summary>The demo page at <c>/</c>, in Chromium, against the <see cref="FakeBrokerServer"/> test double.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class DemoPageTests(BrowserFixture browser) : IAsyncLifetime
{
    private FakeBrokerServer _server = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout((float)BrowserFixture.Timeout.TotalMilliseconds);
        _server = await FakeBrokerServer.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<BrowserPage> SignInAsync(string name)
    {
        var page = await browser.NewPageAsync(_server.BaseUri);
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
    public async Task Two_people_chat_with_presence_and_a_private_notice()
    {
        await using var alice = await SignInAsync("alice");
        var a = alice.Page;
        await Expect(a.GetByTestId("room-button").And(a.Locator("[data-room='lobby']"))).ToHaveAttributeAsync("aria-current", "true");
        await Expect(a.GetByTestId("toast-text")).ToContainTextAsync("Welcome to #lobby, alice!");

        await using var bob = await SignInAsync("bob");
        var b = bob.Page;
        await Expect(a.GetByTestId("presence-item")).ToHaveCountAsync(2);

        await PostAsync(a, "  Hi Bob!  ");
        await PostAsync(b, "Hey Alice");
        foreach (var page in new[] { a, b })
        {
            var items = page.GetByTestId("message");
            await Expect(items).ToHaveCountAsync(2);
            await Expect(items.Nth(0).GetByTestId("message-text")).ToHaveTextAsync("Hi Bob!");
            await Expect(items.Nth(0)).ToHaveAttributeAsync("data-user", "alice");
            await Expect(items.Nth(1).GetByTestId("message-sender")).ToHaveTextAsync("bob");
        }

        await Expect(a.GetByTestId("composer-input")).ToHaveValueAsync("");
        await Expect(a.GetByTestId("fallback-note")).ToBeHiddenAsync();
        await alice.ScreenshotAsync("demo-chat");
        await a.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark }).WaitAsync(BrowserFixture.Timeout);
        await alice.ScreenshotAsync("demo-chat-dark");

        // Bob leaves the lobby for #dev: Alice's presence list drops him.
        await b.GetByTestId("room-button").And(b.Locator("[data-room='dev']")).ClickAsync();
        await Expect(b.GetByTestId("room-title")).ToHaveTextAsync("# dev");
        await Expect(a.GetByTestId("presence-item")).ToHaveCountAsync(1);
        Assert.Equal("", alice.ConsoleLog.Contains("pageerror", StringComparison.Ordinal) ? alice.ConsoleLog : "");

        // Nothing from the network but the broker itself: no CDN, no web font.
        Assert.All(alice.RequestedUrls, url => Assert.True(
            url.StartsWith(_server.BaseUri.ToString(), StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), url));
        Assert.Contains(alice.RequestedUrls, url => url.EndsWith("/broker.js", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_backend_messages_are_published_directly_and_the_page_says_so()
    {
        _server.BackendEnabled = false;
        await using var alice = await SignInAsync("alice");
        await PostAsync(alice.Page, "straight to the channel");
        await Expect(alice.Page.GetByTestId("message-text")).ToHaveTextAsync("straight to the channel");
        await Expect(alice.Page.GetByTestId("fallback-note")).ToBeVisibleAsync();
        var publish = await _server.WaitForFrameAsync(f => (string?)f["type"] == "publish");
        Assert.Equal("chat:lobby", (string?)publish["channel"]);
        Assert.Equal("alice", (string?)publish["data"]!["user"]);
    }

    [Fact]
    public async Task Send_errors_show_inline_and_keep_the_text()
    {
        await using var alice = await SignInAsync("alice");
        var page = alice.Page;
        await PostAsync(page, "   ");
        await Expect(page.GetByTestId("send-error")).ToHaveTextAsync("Write something first.");

        // The backend refuses it (bad_request): its message is shown, the draft stays.
        var tooLong = new string('x', 2001);
        await page.GetByTestId("composer-input").EvaluateAsync("(el, v) => { el.value = v; }", tooLong).WaitAsync(BrowserFixture.Timeout);
        await page.GetByTestId("send-button").ClickAsync();
        await Expect(page.GetByTestId("send-error")).ToContainTextAsync("too long");
        await Expect(page.GetByTestId("composer-input")).ToHaveValueAsync(tooLong);
        await Expect(page.GetByTestId("message")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_reconnect_is_visible_and_recovers_missed_messages_once_in_order()
    {
        await using var alice = await SignInAsync("alice");
        var page = alice.Page;
        var badge = page.GetByTestId("connection-badge");
        await PostAsync(page, "before the outage");
        await Expect(page.GetByTestId("message")).ToHaveCountAsync(1);

        _server.RefuseConnections = true;
        _server.DropAll();
        await Expect(badge).ToHaveAttributeAsync("data-state", "reconnecting");
        await Expect(badge.Locator(".badge-text")).ToHaveTextAsync(ReconnectingText());
        _server.Publish("chat:lobby", "message", new JsonObject { ["text"] = "while you were away", ["user"] = "bob" });
        _server.Publish("chat:lobby", "message", new JsonObject { ["text"] = "still away?", ["user"] = "bob" });
        _server.ReplayOverlap = 1; // a duplicate in the replay must not show twice
        _server.RefuseConnections = false;

        await Expect(badge).ToHaveAttributeAsync("data-state", "recovered");
        await Expect(badge.Locator(".badge-text")).ToHaveTextAsync("Recovered 2 missed messages");
        await Expect(page.GetByTestId("missed-divider")).ToHaveTextAsync("2 missed while you were away");
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["before the outage", "while you were away", "still away?"]);
        await alice.ScreenshotAsync("demo-recovered");

        await PostAsync(page, "back");
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["before the outage", "while you were away", "still away?", "back"]);
    }

    [Fact]
    public async Task Rooms_show_their_history_and_catch_up_when_entered_again()
    {
        _server.Publish("chat:random", "message", new JsonObject { ["text"] = "earlier 1", ["user"] = "bob" });
        _server.Publish("chat:random", "message", new JsonObject { ["text"] = "earlier 2", ["user"] = "bob" });
        await using var alice = await SignInAsync("alice");
        var page = alice.Page;
        await PostAsync(page, "in the lobby");
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["in the lobby"]);

        await page.GetByTestId("room-button").And(page.Locator("[data-room='random']")).ClickAsync();
        await Expect(page.GetByTestId("room-title")).ToHaveTextAsync("# random");
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["earlier 1", "earlier 2"]);

        // While Alice is in #random, the lobby moves on; back in the lobby she resumes from where she left.
        _server.Publish("chat:lobby", "message", new JsonObject { ["text"] = "said while away", ["user"] = "bob" });
        await page.GetByTestId("room-button").And(page.Locator("[data-room='lobby']")).ClickAsync();
        await Expect(page.GetByTestId("message-text")).ToHaveTextAsync(["in the lobby", "said while away"]);
        var subscribe = _server.ReceivedFrames.Last(f => (string?)f["type"] == "subscribe" && (string?)f["channel"] == "chat:lobby");
        Assert.Equal(1, (int)subscribe["since"]!["offset"]!);

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
    public async Task Sign_in_page_renders()
    {
        await using var page = await browser.NewPageAsync(_server.BaseUri);
        await page.Page.GotoAsync("/");
        await Expect(page.Page.GetByTestId("signin-button")).ToBeVisibleAsync();
        await Expect(page.Page.GetByLabel("Your name")).ToBeFocusedAsync();
        await page.Page.GetByTestId("signin-button").ClickAsync();
        await Expect(page.Page.GetByTestId("signin-error")).ToBeVisibleAsync();
        await page.ScreenshotAsync("demo-signin");
    }

    [GeneratedRegex(@"Reconnecting( in \d+s|…)")]
    private static partial Regex ReconnectingText();
}
