using Broker.Core;
using Broker.Engines;

namespace Broker.Tests.Infrastructure;

/// <summary>An engine handler that records what it is given and lets a test wait for a count.</summary>
public sealed class RecordingHandler : IEngineHandler
{
    private readonly Lock _gate = new();
    private readonly List<Publication> _publications = [];
    private readonly List<PresenceEvent> _presence = [];
    private readonly List<(string Channel, StreamPosition Position)> _epochChanges = [];
    private readonly List<(string From, string Text)> _control = [];
    private readonly List<(string Channel, string Entry)> _timeline = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<Publication> Publications
    {
        get { lock (_gate) { return [.. _publications]; } }
    }

    public IReadOnlyList<PresenceEvent> Presence
    {
        get { lock (_gate) { return [.. _presence]; } }
    }

    public void OnPublication(Publication publication)
    {
        lock (_gate)
        {
            _publications.Add(publication);
            _timeline.Add((publication.Channel, publication.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Signal();
        }
    }

    public void OnPresence(PresenceEvent presence)
    {
        lock (_gate)
        {
            _presence.Add(presence);
            Signal();
        }
    }

    public void OnEpochChanged(string channel, StreamPosition position)
    {
        lock (_gate)
        {
            _epochChanges.Add((channel, position));
            _timeline.Add((channel, $"{position.Epoch}:{position.Offset}"));
            Signal();
        }
    }

    public void OnControl(string fromNode, ReadOnlyMemory<byte> message)
    {
        lock (_gate)
        {
            _control.Add((fromNode, System.Text.Encoding.UTF8.GetString(message.Span)));
            Signal();
        }
    }

    /// <summary>Waits until <paramref name="count"/> epoch changes of <paramref name="channel"/> arrived.</summary>
    public Task<IReadOnlyList<(string Channel, StreamPosition Position)>> WaitForEpochChangesAsync(string channel, int count) =>
        WaitAsync(() => { var list = _epochChanges.Where(e => e.Channel == channel).ToList(); return list.Count >= count ? list : null; });

    /// <summary>Waits until <paramref name="count"/> control messages (as UTF-8 text) arrived.</summary>
    public Task<IReadOnlyList<(string From, string Text)>> WaitForControlAsync(int count) =>
        WaitAsync(() => _control.Count >= count ? _control.ToList() : null);

    /// <summary>Everything of <paramref name="channel"/> in arrival order: publications as their offset, epoch changes as "epoch:offset".</summary>
    public IReadOnlyList<string> Timeline(string channel)
    {
        lock (_gate)
        {
            return [.. _timeline.Where(t => t.Channel == channel).Select(t => t.Entry)];
        }
    }

    /// <summary>Waits until <paramref name="count"/> publications of <paramref name="channel"/> arrived.</summary>
    public Task<IReadOnlyList<Publication>> WaitForPublicationsAsync(string channel, int count) =>
        WaitAsync(() => { var list = _publications.Where(p => p.Channel == channel).ToList(); return list.Count >= count ? list : null; });

    /// <summary>Waits until <paramref name="count"/> presence events of <paramref name="channel"/> arrived.</summary>
    public Task<IReadOnlyList<PresenceEvent>> WaitForPresenceAsync(string channel, int count) =>
        WaitAsync(() => { var list = _presence.Where(p => p.Channel == channel).ToList(); return list.Count >= count ? list : null; });

    private async Task<IReadOnlyList<T>> WaitAsync<T>(Func<List<T>?> probe)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (probe() is { } found)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(timeout.Token);
        }
    }

    private void Signal()
    {
        var done = _changed;
        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        done.TrySetResult();
    }
}
