using Microsoft.Playwright;

namespace Broker.BrowserTests.Infrastructure;

/// <summary>
/// One Playwright driver and one headless Chromium per test collection. The browser is Debian's
/// <c>chromium</c> package (test.sh installs it); Playwright never downloads one: the driver ships
/// inside the Microsoft.Playwright package and is copied to the output at build time.
/// Each test takes its own <see cref="IBrowserContext"/> (cookies, storage) from <see cref="NewPageAsync"/>.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Where Debian installs Chromium.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Every Playwright wait in these tests gives up after this long.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The shared browser.</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>Screenshots and other artifacts: <c>artifacts/</c> under the test output directory.</summary>
    public static string ArtifactsDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (./test.sh does).");
        }

        // Expect(...) waits as long as every other Playwright wait here (Playwright keeps it process-wide).
        Assertions.SetDefaultExpectTimeout((float)Timeout.TotalMilliseconds);

        // Belt and braces: nothing in a test run may fetch a browser build.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync().WaitAsync(Timeout);
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = (float)Timeout.TotalMilliseconds,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        }).WaitAsync(Timeout);
    }

    /// <summary>A fresh context (own cookies) and page on <paramref name="baseUrl"/>, with the fixture's timeouts.</summary>
    public async Task<BrowserPage> NewPageAsync(Uri baseUrl)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        }).WaitAsync(Timeout);
        context.SetDefaultTimeout((float)Timeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)Timeout.TotalMilliseconds);
        var page = await context.NewPageAsync().WaitAsync(Timeout);
        return new BrowserPage(context, page);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync().WaitAsync(Timeout);
        _playwright?.Dispose();
    }
}

/// <summary>A page in its own browser context; collects console errors so a failing test can show them.</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly List<string> _console = [];
    private readonly List<string> _requests = [];

    internal BrowserPage(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Console += (_, message) => { lock (_console) _console.Add($"{message.Type}: {message.Text}"); };
        page.PageError += (_, error) => { lock (_console) _console.Add($"pageerror: {error}"); };
        context.Request += (_, request) => { lock (_requests) _requests.Add(request.Url); };
    }

    /// <summary>The browser context (cookies, storage) of this page.</summary>
    public IBrowserContext Context { get; }

    /// <summary>The page.</summary>
    public IPage Page { get; }

    /// <summary>What the page logged so far, for assertion messages.</summary>
    public string ConsoleLog
    {
        get { lock (_console) return string.Join('\n', _console); }
    }

    /// <summary>Every URL the context requested so far (pages, scripts, fetches, WebSockets excluded).</summary>
    public IReadOnlyList<string> RequestedUrls
    {
        get { lock (_requests) return [.. _requests]; }
    }

    /// <summary>Saves a full-page screenshot under <see cref="BrowserFixture.ArtifactsDirectory"/>; returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(BrowserFixture.ArtifactsDirectory, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Animations = ScreenshotAnimations.Disabled }).WaitAsync(BrowserFixture.Timeout);
        return path;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await Context.CloseAsync().WaitAsync(BrowserFixture.Timeout);
}

/// <summary>Tests that share one browser.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "browser";
}
