using Broker.Core.Cluster;
using Broker.Core.Handlers;
using Broker.Diagnostics;
using Broker.Engines;
using Microsoft.Extensions.Options;

namespace Broker.Core;

/// <summary>
/// This broker's front door, as centrifuge's <c>Node</c> is: every transport hands its parsed requests
/// here with the <see cref="Caller"/>, and gets back a result or one <see cref="BrokerError"/>. Each rule
/// of PROTOCOL.md about channels, events, data, permissions and engine health has its one home here; a
/// transport only parses, calls, and maps the <see cref="ErrorCode"/> to its wire. Partial files:
/// <c>.Subscribe</c> (subscriptions and feeds), <c>.Rules</c> (the checks).
/// </summary>
public sealed partial class BrokerNode
{
    private static readonly byte[] JsonNull = "null"u8.ToArray();

    private readonly Hub _hub;
    private readonly NamespaceRegistry _namespaces;
    private readonly HandlerRegistry _handlers;
    private readonly BrokerMetrics? _metrics;
    private readonly ClusterControl? _cluster;
    private readonly int _maxDataBytes;
    private readonly QueueBudget _queues;

    /// <summary>Creates the node over the hub, the namespaces and the handlers; with <paramref name="cluster"/>, a <c>Disconnect</c> reaches every node.</summary>
    public BrokerNode(Hub hub, NamespaceRegistry namespaces, HandlerRegistry handlers, ConnectionRegistry connections, IOptions<BrokerOptions> options, BrokerMetrics? metrics = null, ClusterControl? cluster = null, QueueBudget? queues = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _hub = hub;
        _namespaces = namespaces;
        _handlers = handlers;
        Connections = connections;
        _metrics = metrics;
        _cluster = cluster;
        _maxDataBytes = options.Value.MaxMessageBytes;
        _queues = queues ?? new QueueBudget(options.Value.MaxQueuedBytes);
    }

    /// <summary>The bytes queued for all subscribers of this node, and their ceiling (<c>Broker:MaxQueuedBytes</c>).</summary>
    public QueueBudget Queues => _queues;

    /// <summary>Largest <c>data</c> of a publication or <c>send</c>, in bytes (<c>Broker:MaxMessageBytes</c>).</summary>
    public int MaxDataBytes => _maxDataBytes;

    /// <summary>The connections of this broker, by session and user.</summary>
    public ConnectionRegistry Connections { get; }

    /// <summary>
    /// <c>publish</c>: checks the channel, the caller's permission, the event and the data, then numbers,
    /// keeps and fans out the publication. <paramref name="data"/> null is a publish without data.
    /// </summary>
    public async ValueTask<Result<PublishResult>> PublishAsync(Caller caller, string? channel, string? eventName, ReadOnlyMemory<byte>? data, string? idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (CheckChannel(caller, channel, Access.Publish, out var policy) is { } refused)
        {
            return refused;
        }

        string name = string.IsNullOrEmpty(eventName) ? ChannelNames.DefaultEvent : eventName;
        if ((CheckEvent(name) ?? CheckData(data, required: true) ?? CheckEngine("publish") ?? CheckQueues()) is { } invalid)
        {
            return invalid;
        }

        var command = new PublishCommand(channel!, name, data!.Value, caller.Client, idempotencyKey, policy!.History);
        try
        {
            return await _hub.PublishAsync(command, cancellationToken);
        }
        catch (EngineUnavailableException)
        {
            return EngineUnavailable("publish");
        }
    }

    /// <summary><c>history</c>: a channel's publications after <paramref name="since"/> (or the last <paramref name="limit"/>), with its position.</summary>
    public async ValueTask<Result<HistoryResult>> HistoryAsync(Caller caller, string? channel, StreamPosition? since, int? limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // A browser reads its own personal channels' history (to fill a gap after lagged), though it may
        // not subscribe to them by request.
        bool own = channel is not null && caller.IsBrowser && caller.OwnsPersonal(channel);
        if (!own && CheckChannel(caller, channel, Access.Read, out _) is { } refused)
        {
            return refused;
        }

        if ((CheckEngine("history")) is { } unavailable)
        {
            return unavailable;
        }

        try
        {
            return await _hub.ReadHistoryAsync(channel!, new HistoryQuery(since, limit), cancellationToken);
        }
        catch (EngineUnavailableException)
        {
            return EngineUnavailable("history");
        }
    }

    /// <summary><c>presence</c>: the channel's members, where its namespace keeps them.</summary>
    public async ValueTask<Result<IReadOnlyList<PresenceEntry>>> PresenceAsync(Caller caller, string? channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (CheckChannel(caller, channel, Access.Read, out var policy) is { } refused)
        {
            return refused;
        }

        if (!policy!.Presence)
        {
            return new BrokerError(ErrorCode.NotFound, $"Presence is not kept in namespace '{policy.Name}'.");
        }

        if ((CheckEngine("presence")) is { } unavailable)
        {
            return unavailable;
        }

        try
        {
            return Result<IReadOnlyList<PresenceEntry>>.Ok(await _hub.GetPresenceAsync(channel!, cancellationToken));
        }
        catch (EngineUnavailableException)
        {
            return EngineUnavailable("presence");
        }
    }

    /// <summary>
    /// <c>Disconnect</c>: ends the WebSocket connections of a session, of a user, or of that user in that
    /// session, on every node of the cluster, and counts them (PROTOCOL.md; a node that does not answer in
    /// time is not counted, see <see cref="ClusterControl"/>). Neither id: <c>bad_request</c>.
    /// </summary>
    public async ValueTask<Result<int>> DisconnectAsync(string? sessionId, string? userId, string? reason, bool reconnect, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sessionId) && string.IsNullOrEmpty(userId))
        {
            return BadRequest("Name a 'session_id', a 'user_id', or both.");
        }

        if (_cluster is null)
        {
            return Connections.Disconnect(sessionId, userId, reason ?? string.Empty, reconnect);
        }

        return await _cluster.DisconnectAsync(sessionId, userId, reason ?? string.Empty, reconnect, cancellationToken);
    }

    /// <summary>
    /// <c>send</c>: hands the event to one backend handler with the sender attached, and waits for its
    /// reply data (UTF-8 JSON; empty when the handler replied with none). A handler's own error comes
    /// back as the refusal, its code passed through.
    /// </summary>
    public async ValueTask<Result<ReadOnlyMemory<byte>>> SendAsync(Caller caller, string? eventName, ReadOnlyMemory<byte>? data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.Client is not { } client)
        {
            throw new ArgumentException("Only a browser connection sends to handlers.", nameof(caller));
        }

        if (eventName is null)
        {
            return BadRequest("'event' is required.");
        }

        if ((CheckEvent(eventName) ?? CheckData(data, required: false)) is { } invalid)
        {
            return invalid;
        }

        var reply = await _handlers.SendAsync(eventName, data ?? JsonNull, client, cancellationToken);
        if (reply.IsError)
        {
            var code = ErrorCodes.Parse(reply.ErrorCode!);
            return new BrokerError(code ?? ErrorCode.Internal, reply.ErrorMessage ?? reply.ErrorCode!, WireCode: code is null ? reply.ErrorCode : null);
        }

        if (!reply.Data.IsEmpty && !JsonValue.IsSingle(reply.Data.Span))
        {
            return new BrokerError(ErrorCode.Internal, "The handler's reply is not JSON.");
        }

        return reply.Data;
    }
}
