using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Broker.BrowserTests.Infrastructure;

/// <summary>
/// What a page's WebSockets carried, as Chromium saw it (Playwright's WebSocket events): every message
/// received and sent, whole, so tests can look at coalescing and at the frames broker.js wrote.
/// </summary>
public sealed class SocketRecorder
{
    private readonly List<string> _received = [];
    private readonly List<string> _sent = [];
    private readonly List<(Func<IReadOnlyList<JsonObject>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    /// <summary>Starts recording every WebSocket <paramref name="page"/> opens from now on.</summary>
    public SocketRecorder(IPage page)
    {
        page.WebSocket += (_, socket) =>
        {
            socket.FrameReceived += (_, frame) =>
            {
                lock (_received) _received.Add(frame.Text ?? "");
                CheckWaiters();
            };
            socket.FrameSent += (_, frame) => { lock (_sent) _sent.Add(frame.Text ?? ""); };
        };
    }

    /// <summary>Messages the page received, oldest first.</summary>
    public IReadOnlyList<string> Received
    {
        get { lock (_received) return [.. _received]; }
    }

    /// <summary>The frames the page sent (messages split on <c>\n</c>), parsed, oldest first.</summary>
    public IReadOnlyList<JsonObject> SentFrames
    {
        get
        {
            lock (_sent)
            {
                return [.. _sent.SelectMany(static m => m.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(static f => JsonNode.Parse(f)!.AsObject())];
            }
        }
    }

    /// <summary>The frames the page received, parsed, oldest first.</summary>
    public IReadOnlyList<JsonObject> ReceivedFrames
    {
        get
        {
            lock (_received)
            {
                return [.. _received.SelectMany(static m => m.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(static f => JsonNode.Parse(f)!.AsObject())];
            }
        }
    }

    /// <summary>Sent frames of one type.</summary>
    public IReadOnlyList<JsonObject> Sent(string type) => [.. SentFrames.Where(f => (string?)f["type"] == type)];

    /// <summary>Received frames of one type.</summary>
    public IReadOnlyList<JsonObject> ReceivedOf(string type) => [.. ReceivedFrames.Where(f => (string?)f["type"] == type)];

    /// <summary>Completes when the frames received so far satisfy <paramref name="condition"/>; fails after <see cref="BrowserFixture.Timeout"/>.</summary>
    public Task WaitForReceivedAsync(Func<IReadOnlyList<JsonObject>, bool> condition)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters) _waiters.Add((condition, done));
        CheckWaiters();
        return done.Task.WaitAsync(BrowserFixture.Timeout);
    }

    private void CheckWaiters()
    {
        lock (_waiters)
        {
            if (_waiters.Count == 0) return;
            var frames = ReceivedFrames;
            _waiters.RemoveAll(w =>
            {
                if (!w.Condition(frames)) return false;
                w.Done.TrySetResult();
                return true;
            });
        }
    }
}
