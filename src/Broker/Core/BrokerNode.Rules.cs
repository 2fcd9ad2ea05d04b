using Broker.Diagnostics;
using Broker.Engines;

namespace Broker.Core;

public sealed partial class BrokerNode
{
    /// <summary>What a caller wants to do with a channel, for its namespace's permission.</summary>
    public enum Access
    {
        /// <summary>Subscribe, read history or presence: the namespace's <c>Subscribe</c> permission.</summary>
        Read,

        /// <summary>Publish: the namespace's <c>Publish</c> permission.</summary>
        Publish,
    }

    /// <summary>
    /// The checks every channel request shares: a name (<c>bad_request</c>); for a browser, not personal
    /// (<c>forbidden</c>); a configured namespace (<c>not_found</c>); for a browser, the namespace's
    /// permission for this session (<c>forbidden</c>); for a backend's publish, not the broker's own
    /// <c>$broker:stats</c> (<c>forbidden</c>). Null when the channel may be used; its policy then in
    /// <paramref name="policy"/>.
    /// </summary>
    public BrokerError? CheckChannel(Caller caller, string? channel, Access access, out NamespacePolicy? policy)
    {
        ArgumentNullException.ThrowIfNull(caller);
        policy = null;
        if (channel is null)
        {
            return BadRequest("'channel' is required.");
        }

        var kind = ChannelNames.Classify(channel);
        if (kind == ChannelKind.Invalid)
        {
            return BadRequest(ChannelNames.NotAChannel(channel));
        }

        if (caller.IsBrowser && kind is ChannelKind.Session or ChannelKind.User)
        {
            return new BrokerError(ErrorCode.Forbidden, "Personal channels ('$session:…', '$user:…') are written by backends; browsers receive their own and cannot subscribe or publish to any.");
        }

        policy = _namespaces.Resolve(channel);
        if (policy is null)
        {
            return new BrokerError(ErrorCode.NotFound, $"The namespace of '{ChannelNames.Shorten(channel)}' is not configured; namespaces are set under Broker:Namespaces (the default namespace, for names without ':', under Broker:Namespaces:default).");
        }

        if (caller.IsBrowser)
        {
            bool publish = access == Access.Publish;
            if (!NamespacePolicy.Allows(publish ? policy.Publish : policy.Subscribe, caller.HasUser))
            {
                return NotPermitted(policy, publish, caller.HasUser);
            }
        }
        else if (access == Access.Publish && kind == ChannelKind.BrokerStats)
        {
            return new BrokerError(ErrorCode.Forbidden, $"Only the broker publishes to '{ChannelNames.BrokerStats}'.");
        }

        return null;
    }

    /// <summary>An event name (<c>bad_request</c>).</summary>
    public static BrokerError? CheckEvent(string eventName) =>
        ChannelNames.IsValidEvent(eventName) ? null : BadRequest(ChannelNames.NotAnEvent(eventName));

    /// <summary>
    /// <c>data</c>: present when <paramref name="required"/> (<c>bad_request</c>), at most
    /// <see cref="MaxDataBytes"/> (<c>too_large</c>), and one JSON value in valid UTF-8 (<c>bad_request</c>):
    /// a text frame with invalid UTF-8 would fail every subscriber's WebSocket.
    /// </summary>
    public BrokerError? CheckData(ReadOnlyMemory<byte>? data, bool required)
    {
        if (data is not { } bytes)
        {
            return required ? BadRequest("'data' is required.") : null;
        }

        if (bytes.Length > _maxDataBytes)
        {
            return new BrokerError(ErrorCode.TooLarge, $"'data' is {bytes.Length} bytes; at most {_maxDataBytes} are allowed (Broker:MaxMessageBytes).");
        }

        return JsonValue.IsSingle(bytes.Span) ? null : BadRequest("'data' must be one JSON value (object, array, string, number, true, false or null) in valid UTF-8.");
    }

    /// <summary>
    /// The engine can serve (<c>unavailable</c> while a cluster engine's backend is unreachable, at once:
    /// nothing waits for it). A refusal is counted in <c>broker.engine.unavailable</c> by <paramref name="operation"/>.
    /// </summary>
    public BrokerError? CheckEngine(string operation) => _hub.Engine.IsHealthy ? null : EngineUnavailable(operation);

    /// <summary><c>unavailable</c> for an engine that failed mid-request, counted by <paramref name="operation"/> (a constant).</summary>
    private BrokerError EngineUnavailable(string operation)
    {
        _metrics?.RecordEngineUnavailable(operation);
        return BrokerError.EngineUnavailable;
    }

    /// <summary>New work (publish, subscribe) while the node's queues hold <c>Broker:MaxQueuedBytes</c>: <c>unavailable</c>, counted.</summary>
    public BrokerError? CheckQueues()
    {
        if (!_queues.IsExhausted)
        {
            return null;
        }

        _metrics?.RecordLimitRefused(LimitKind.QueuedBytes);
        return BrokerError.QueuesFull;
    }

    private static BrokerError BadRequest(string message) => new(ErrorCode.BadRequest, message);

    // Says who the namespace lets in, so a refused caller knows whether signing in would help.
    private static BrokerError NotPermitted(NamespacePolicy policy, bool publish, bool hasUser)
    {
        var permission = publish ? policy.Publish : policy.Subscribe;
        string action = publish ? "publish" : "subscribe";
        string who = permission switch
        {
            Permission.None => $"no browser may {action} (backends may)",
            Permission.Authenticated => hasUser ? $"only sessions with a user may {action}" : $"only sessions with a user may {action}, and this one has none",
            _ => $"anyone may {action}",
        };
        return new BrokerError(ErrorCode.Forbidden, $"Namespace '{policy.Name}' does not let this session {action}: {who}.");
    }
}
