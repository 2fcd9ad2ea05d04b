using System.Diagnostics.Metrics;

namespace Broker.Telemetry;

/// <summary>
/// The broker's instruments, on the meter <see cref="MeterName"/>. One instance per broker, made from
/// <see cref="IMeterFactory"/> so tests can listen to one broker alone.
/// </summary>
public sealed class BrokerMetrics
{
    /// <summary>The meter every broker instrument lives on.</summary>
    public const string MeterName = "Broker";

    private readonly Counter<long> _dropped;
    private readonly Counter<long> _publications;

    // Tags made once: a KeyValuePair per drop reason, so counting a drop allocates nothing.
    private readonly KeyValuePair<string, object?>[] _reasonTags;

    /// <summary>Creates the instruments.</summary>
    public BrokerMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _dropped = meter.CreateCounter<long>("broker.messages.dropped", "{message}", "Messages that never reached a subscriber, by reason.");
        _publications = meter.CreateCounter<long>("broker.publications", "{publication}", "Publications accepted by the engine.");
        var reasons = Enum.GetValues<DropReason>();
        _reasonTags = new KeyValuePair<string, object?>[reasons.Length];
        foreach (var reason in reasons)
        {
            _reasonTags[(int)reason] = new("reason", reason switch
            {
                DropReason.Overflow => "overflow",
                DropReason.SlowConsumer => "slow_consumer",
                DropReason.Closed => "closed",
                _ => "shutdown",
            });
        }
    }

    /// <summary>Counts <paramref name="count"/> messages dropped for <paramref name="reason"/>.</summary>
    public void RecordDropped(DropReason reason, long count = 1)
    {
        if (count > 0)
        {
            _dropped.Add(count, _reasonTags[(int)reason]);
        }
    }

    /// <summary>Counts one accepted publication.</summary>
    public void RecordPublication() => _publications.Add(1);
}
