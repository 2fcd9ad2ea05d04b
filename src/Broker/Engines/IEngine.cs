
namespace Broker.Engines;

/// <summary>
/// Where publications, their numbering, history and presence live: the embedded
/// <see cref="InMemory.InMemoryEngine"/> for one broker, or a shared engine for a cluster of brokers.
/// Every engine passes the same specification suite (tests: <c>EngineSpecification</c>).
/// </summary>
/// <remarks>
/// <para><b>Numbering.</b> Each channel numbers its publications 1, 2, 3 … with no gap and no repeat
/// within one epoch. The epoch changes only when the numbering's backing is lost (the in-memory engine
/// restarted, or forgot an idle channel); an offset is meaningful only with its epoch. Publishes
/// of one channel started one after another (each call made once the previous one returned its task,
/// complete or not) are numbered in the order they were started: a caller keeps several in flight, as a
/// pipelined publish stream must to make a remote engine's round trip cheap, and still keeps its order.</para>
/// <para><b>Delivery.</b> Live delivery to <see cref="IEngineHandler"/> is at most once: each accepted
/// publication is delivered once, in offset order per channel, never two of one channel concurrently;
/// no order is promised across channels. An engine delivers at least the channels the node expressed
/// interest in (<see cref="SubscribeAsync"/>) and may deliver more. A publication that the handler
/// does not get live (a cluster link dropped, a subscriber's queue overflowed) is made whole from
/// history: the loss shows as a jump in offsets, and <see cref="ReadHistoryAsync"/> fills it while the
/// publications are kept (namespace <c>HistorySize</c> and <c>HistoryTtl</c>).</para>
/// <para><b>History.</b> <see cref="ReadHistoryAsync"/> returns publications and the channel's position
/// from one consistent snapshot: every publication at or below the returned position was either
/// returned or is older than what is kept, and every publication above it is delivered to the handler
/// after the read (for channels the node is interested in).</para>
/// <para><b>Idempotency.</b> A publish whose key was seen on the same channel within
/// <see cref="IdempotencyWindow"/> publishes nothing and returns the first publication's position.</para>
/// <para><b>Presence.</b> Members are counted per (session, user) by connections; a user's first
/// connection to a channel with presence on raises a <c>join</c>, the last a <c>leave</c>, ordered
/// with the channel's publications.</para>
/// <para><b>Nodes and control.</b> An engine names the node it runs on (<see cref="NodeId"/>), knows which
/// nodes are alive (<see cref="GetNodesAsync"/>), and carries small control messages from one node's core to
/// another's (<see cref="SendControlAsync"/>, delivered to <see cref="IEngineHandler.OnControl"/>): what a
/// cluster needs beyond channels (a <c>Disconnect</c> that reaches every node, handler groups across nodes).
/// A control message is delivered at most once, in send order between two nodes, to a node that was alive
/// when it was sent; a lost node loses what was on its way to it. One node alone (the in-memory engine)
/// is its own only node, and a message to itself is delivered to its own handler.</para>
/// <para><b>Epochs.</b> When a channel the node is interested in starts a new epoch while subscribed (the
/// shared backend lost its numbering), the engine tells the handler with
/// <see cref="IEngineHandler.OnEpochChanged"/> before any publication of the new epoch.</para>
/// </remarks>
public interface IEngine : IAsyncDisposable
{
    /// <summary>How long an idempotency key is remembered: one minute (PROTOCOL.md).</summary>
    static readonly TimeSpan IdempotencyWindow = TimeSpan.FromMinutes(1);

    /// <summary>True while the engine can serve (a cluster engine: while its shared backend is reachable).</summary>
    bool IsHealthy { get; }

    /// <summary>
    /// This node's id among the engine's nodes (what <see cref="SendControlAsync"/> names). A cluster engine
    /// may give the node a new id during its life (it was taken for dead and came back).
    /// </summary>
    string NodeId { get; }

    /// <summary>The nodes alive now, this one included; throws <see cref="EngineUnavailableException"/> when the backend is unreachable.</summary>
    ValueTask<IReadOnlyList<string>> GetNodesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="node"/>'s handler (<see cref="IEngineHandler.OnControl"/>),
    /// without waiting for it to be handled. True when a live node took it; false when no such node is
    /// alive (nothing is delivered). Throws <see cref="EngineUnavailableException"/> when the backend is unreachable.
    /// </summary>
    ValueTask<bool> SendControlAsync(string node, ReadOnlyMemory<byte> message, CancellationToken cancellationToken);

    /// <summary>Starts the engine; from then on it delivers to <paramref name="handler"/>. Called once.</summary>
    ValueTask StartAsync(IEngineHandler handler, CancellationToken cancellationToken);

    /// <summary>Numbers, keeps and delivers a publication.</summary>
    ValueTask<PublishResult> PublishAsync(PublishCommand command, CancellationToken cancellationToken);

    /// <summary>Reads a channel's history and current position (a channel never published is at offset 0).</summary>
    ValueTask<HistoryResult> ReadHistoryAsync(string channel, HistoryQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// The node wants the publications of <paramref name="channelOrPrefix"/> (an exact channel, or a prefix
    /// ending in <c>*</c>). Counted: each call needs one <see cref="UnsubscribeAsync"/>. Completes once
    /// delivery is live, so a history read after it misses nothing.
    /// </summary>
    ValueTask SubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken);

    /// <summary>Takes back one <see cref="SubscribeAsync"/>.</summary>
    ValueTask UnsubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken);

    /// <summary>Counts a connection of <paramref name="member"/> into the channel's presence.</summary>
    ValueTask JoinAsync(string channel, ClientInfo member, CancellationToken cancellationToken);

    /// <summary>Counts a connection of <paramref name="member"/> out of the channel's presence.</summary>
    ValueTask LeaveAsync(string channel, ClientInfo member, CancellationToken cancellationToken);

    /// <summary>The channel's members, one entry per (session, user).</summary>
    ValueTask<IReadOnlyList<PresenceEntry>> GetPresenceAsync(string channel, CancellationToken cancellationToken);
}
