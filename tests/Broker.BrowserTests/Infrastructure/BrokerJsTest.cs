namespace Broker.BrowserTests.Infrastructure;

/// <summary>
/// Tests of broker.js alone: a <see cref="BrowserTest"/> whose page runs one <c>BrokerClient</c> that records
/// everything it emits into <c>window.log</c>, so tests wait on that state instead of on time.
/// </summary>
public abstract class BrokerJsTest(BrowserFixture browser) : BrowserTest(browser)
{
    /// <summary>Reconnects fast: a test that drops the page does not wait out the default backoff.</summary>
    protected static readonly object FastReconnect = new { minReconnectDelay = 50, maxReconnectDelay = 200 };

    // Records everything the client emits into window.log so tests can wait on DOM-free state.
    private const string Harness = """
        async ({ name, options }) => {
          const { BrokerClient } = window.broker;
          await fetch('/session', { method: 'POST' });
          if (name) await fetch('/demo/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
          window.badTicket = false;
          const ticket = async () => window.badTicket ? 'not-a-ticket' : (await (await fetch('/tickets', { method: 'POST' })).json()).ticket;
          const client = new BrokerClient({ ticket, ...options });
          window.client = client;
          window.log = { states: [], connects: [], disconnects: [], errors: [], pubs: [], subscribed: [], lagged: [], personal: [], personalSubscribed: [] };
          client.on('state', (s) => window.log.states.push(s.state));
          client.on('connect', (c) => window.log.connects.push(c));
          client.on('disconnect', (d) => window.log.disconnects.push(d));
          client.on('error', (e) => window.log.errors.push({ code: e.code, message: e.message }));
          client.personal.on('*', (p) => window.log.personal.push({ channel: p.channel, offset: p.offset, epoch: p.epoch, text: p.data && p.data.text }));
          client.personal.on('subscribed', (s) => window.log.personalSubscribed.push(s));
          window.track = (channel) => {
            const sub = client.subscribe(channel);
            sub.on('*', (p) => window.log.pubs.push({ channel: p.channel, offset: p.offset, epoch: p.epoch, text: p.data && p.data.text }));
            // The position as the handler sees it: where the subscription stands when it is told.
            sub.on('subscribed', (s) => window.log.subscribed.push({ ...s, position: sub.position }));
            sub.on('lagged', (l) => window.log.lagged.push(l));
            return sub;
          };
          client.connect();
        }
        """;

    /// <summary>Signs in as <paramref name="name"/> (none: anonymous) and connects the page's client.</summary>
    protected Task StartClientAsync(string? name = "alice", object? options = null) =>
        RunAsync(Harness, new { name, options = options ?? FastReconnect });

    // Page.EvaluateAsync waits for the script's promise with no limit of its own: every call here has one.

    /// <summary>Runs <paramref name="script"/> in the page, within <see cref="BrowserFixture.Timeout"/>.</summary>
    protected Task RunAsync(string script, object? arg = null) => Page.EvaluateAsync(script, arg).WaitAsync(BrowserFixture.Timeout);

    /// <summary>Evaluates <paramref name="script"/> in the page, within <see cref="BrowserFixture.Timeout"/>.</summary>
    protected Task<T> JsAsync<T>(string script, object? arg = null) => Page.EvaluateAsync<T>(script, arg).WaitAsync(BrowserFixture.Timeout);

    /// <summary>The texts of the publications tracked subscriptions delivered, in order.</summary>
    protected Task<string[]> ReceivedTextsAsync() => JsAsync<string[]>("() => window.log.pubs.map(p => p.text)");

    /// <summary>The page's session id, from its last <c>welcome</c>.</summary>
    protected Task<string> SessionIdAsync() => JsAsync<string>("() => window.client.sessionId");
}
