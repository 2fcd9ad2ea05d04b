using System.Text;
using Broker.Engines.Redis.Internal;
using StackExchange.Redis;
using RedisMessage = StackExchange.Redis.ChannelMessage;

namespace Broker.Engines.Redis;

/// <summary>
/// The control path between nodes: each node subscribes to its own node channel
/// (<c>P:node:N:control</c>), which carries other nodes' control messages and the node's own liveness
/// probes. A node is alive when its heartbeat in <c>P:nodes</c> is current and its node channel has a
/// subscriber: a killed process's subscription goes with its TCP connection at once, long before its
/// heartbeat runs out (<see cref="RedisEngineOptions.NodeTimeout"/>).
/// </summary>
/// <remarks>
/// A frame on a node channel: one kind byte, <c>H</c> a probe (nothing else), or <c>C</c> a control
/// message: one byte of the sender's id length, the id (ASCII), then the message.
/// </remarks>
public sealed partial class RedisEngine
{
    private const byte KindProbe = (byte)'H';
    private const byte KindControl = (byte)'C';

    private static readonly byte[] ProbeFrame = [KindProbe];

    private readonly SemaphoreSlim _nodeChannelGate = new(1, 1);
    private ChannelMessageQueue? _nodeQueue;
    private volatile string? _nodeQueueId;  // read without the gate on every probe: a fast path

    /// <inheritdoc/>
    public string NodeId => _keys.NodeId;

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<string>> GetNodesAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnavailable();
        try
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var registered = await _db.SortedSetRangeByScoreAsync(_keys.Nodes, now, double.PositiveInfinity, Exclude.Start).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (registered.Length == 0)
            {
                return [];
            }

            // PUBSUB NUMSUB of every node channel in one round trip: the reply pairs each channel with its count.
            var args = new object[registered.Length + 1];
            args[0] = "NUMSUB";
            for (int i = 0; i < registered.Length; i++)
            {
                args[i + 1] = (string)_keys.NodeChannel((string)registered[i]!)!;
            }

            var counts = (RedisResult[])(await _db.ExecuteAsync("PUBSUB", args).WaitAsync(cancellationToken).ConfigureAwait(false))!;
            var alive = new List<string>(registered.Length);
            for (int i = 0; i < registered.Length; i++)
            {
                if ((long)counts[(2 * i) + 1] > 0)
                {
                    alive.Add((string)registered[i]!);
                }
            }

            return alive;
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            throw Unavailable(e);
        }
    }

    /// <inheritdoc/>
    /// <remarks>One PUBLISH to the node's channel; Redis answers how many subscribers took it, so a node
    /// that is gone (no subscriber) is known at once.</remarks>
    public async ValueTask<bool> SendControlAsync(string node, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        ThrowIfUnavailable();
        var from = _keys.NodeId;
        var frame = new byte[2 + from.Length + message.Length];
        frame[0] = KindControl;
        frame[1] = (byte)from.Length;  // node ids are 8 ASCII characters (NewId)
        Encoding.ASCII.GetBytes(from, frame.AsSpan(2));
        message.Span.CopyTo(frame.AsSpan(2 + from.Length));
        try
        {
            long receivers = await _subscriber.PublishAsync(_keys.NodeChannel(node), frame).WaitAsync(cancellationToken).ConfigureAwait(false);
            return receivers > 0;
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            throw Unavailable(e);
        }
    }

    /// <summary>
    /// Subscribes the node channel of the current node id (again, when the node came back under a new id),
    /// and drops the old one's. Called at start, before each probe, and after re-registering.
    /// </summary>
    private async Task EnsureNodeChannelSubscribedAsync()
    {
        var id = _keys.NodeId;
        if (_nodeQueueId == id)
        {
            return;
        }

        await _nodeChannelGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_nodeQueueId == id)
            {
                return;
            }

            // One sequential reader: control messages from one sender reach the handler in send order.
            var queue = await _subscriber.SubscribeAsync(_keys.NodeChannel(id)).ConfigureAwait(false);
            queue.OnMessage(OnNodeMessage);
            var old = _nodeQueue;
            _nodeQueue = queue;
            _nodeQueueId = id;
            if (old is not null)
            {
                await UnsubscribeQuietlyAsync(old).ConfigureAwait(false);
            }
        }
        finally
        {
            _nodeChannelGate.Release();
        }
    }

    private void OnNodeMessage(RedisMessage message)
    {
        var frame = (byte[]?)message.Message;
        if (frame is not { Length: > 0 })
        {
            RedisEngineLog.MalformedFrame(_logger, message.Channel.ToString());
            return;
        }

        if (frame[0] == KindProbe)
        {
            OnProbe();
            return;
        }

        if (frame[0] != KindControl || frame.Length < 2 || frame.Length < 2 + frame[1])
        {
            RedisEngineLog.MalformedFrame(_logger, message.Channel.ToString());
            return;
        }

        var from = Encoding.ASCII.GetString(frame, 2, frame[1]);
        try
        {
            _handler!.OnControl(from, frame.AsMemory(2 + frame[1]));
        }
        catch (Exception e)
        {
            RedisEngineLog.ControlFailed(_logger, from, e);
        }
    }
}
