using Broker.Engines;

namespace Broker.FunctionalTests.Infrastructure;

/// <summary>An engine that passes every call to another; tests override the one they need to watch or hold.</summary>
public class DelegatingEngine : IEngine
{
    private IEngine _inner = null!;

    /// <summary>Sets the engine calls go to (from the service registration) and returns this one.</summary>
    public IEngine Wrap(IEngine inner)
    {
        _inner = inner;
        return this;
    }

    public virtual bool IsHealthy => _inner.IsHealthy;

    public string NodeId => _inner.NodeId;

    public ValueTask StartAsync(IEngineHandler handler, CancellationToken cancellationToken) => _inner.StartAsync(handler, cancellationToken);

    public virtual ValueTask<PublishResult> PublishAsync(PublishCommand command, CancellationToken cancellationToken) => _inner.PublishAsync(command, cancellationToken);

    public ValueTask<HistoryResult> ReadHistoryAsync(string channel, HistoryQuery query, CancellationToken cancellationToken) => _inner.ReadHistoryAsync(channel, query, cancellationToken);

    public ValueTask SubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken) => _inner.SubscribeAsync(channelOrPrefix, cancellationToken);

    public ValueTask UnsubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken) => _inner.UnsubscribeAsync(channelOrPrefix, cancellationToken);

    public ValueTask JoinAsync(string channel, ClientInfo member, CancellationToken cancellationToken) => _inner.JoinAsync(channel, member, cancellationToken);

    public ValueTask LeaveAsync(string channel, ClientInfo member, CancellationToken cancellationToken) => _inner.LeaveAsync(channel, member, cancellationToken);

    public ValueTask<IReadOnlyList<PresenceEntry>> GetPresenceAsync(string channel, CancellationToken cancellationToken) => _inner.GetPresenceAsync(channel, cancellationToken);

    public ValueTask<IReadOnlyList<string>> GetNodesAsync(CancellationToken cancellationToken) => _inner.GetNodesAsync(cancellationToken);

    public ValueTask<bool> SendControlAsync(string node, ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => _inner.SendControlAsync(node, message, cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
