using Microsoft.Playwright;

namespace Broker.BrowserTests.Infrastructure;

/// <summary>
/// What every browser test sets up: its own broker (<see cref="TestBroker"/>), pages from the collection's
/// <see cref="BrowserFixture"/> at that broker's origin, and, for tests of broker.js alone, one page with
/// broker.js loaded and its WebSockets recorded. The page and the broker are disposed after each test.
/// A test class starts the broker in <see cref="InitializeAsync"/> (one configuration for all its tests) or
/// in each test (<see cref="StartBrokerAsync"/>, <see cref="OpenTestPageAsync"/>).
/// </summary>
public abstract class BrowserTest(BrowserFixture browser) : IAsyncLifetime
{
    private BrokerServer? _server;
    private BrowserPage? _page;
    private SocketRecorder? _sockets;

    /// <summary>The test's broker.</summary>
    protected BrokerServer Server => _server ?? throw new InvalidOperationException("No broker yet: call StartBrokerAsync or OpenTestPageAsync.");

    /// <summary>The page <see cref="OpenTestPageAsync"/> opened.</summary>
    protected IPage Page => (_page ?? throw new InvalidOperationException("No test page yet: call OpenTestPageAsync.")).Page;

    /// <summary>The WebSockets of <see cref="Page"/>, recorded from before broker.js loaded.</summary>
    protected SocketRecorder Sockets => _sockets ?? throw new InvalidOperationException("No test page yet: call OpenTestPageAsync.");

    /// <inheritdoc />
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_page is not null) await _page.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }

    /// <summary>Starts the test's broker: the demo's configuration with <paramref name="settings"/> added or replaced.</summary>
    protected async Task StartBrokerAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        _server = await TestBroker.StartAsync(settings);
    }

    /// <summary>A real broker with <paramref name="settings"/> and a blank page at its origin with broker.js loaded.</summary>
    protected async Task OpenTestPageAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        await StartBrokerAsync(settings);
        _page = await NewPageAsync();
        _sockets = new SocketRecorder(_page.Page);
        await TestBroker.OpenTestPageAsync(_page.Page);
    }

    /// <summary>A fresh page (own context, own cookies) at the broker's origin; the test disposes it.</summary>
    protected Task<BrowserPage> NewPageAsync() => browser.NewPageAsync(Server.WebAddress);

    /// <summary>Waits, within <see cref="BrowserFixture.Timeout"/>, until <paramref name="predicate"/> is true in <see cref="Page"/>.</summary>
    protected Task WaitForJsAsync(string predicate) =>
        Page.WaitForFunctionAsync(predicate, null, new PageWaitForFunctionOptions { Timeout = (float)BrowserFixture.Timeout.TotalMilliseconds });
}
