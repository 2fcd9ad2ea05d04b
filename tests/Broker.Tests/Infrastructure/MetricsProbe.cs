using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Broker.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Tests.Infrastructure;

/// <summary>A <see cref="BrokerMetrics"/> of its own with a listener that sums what its counters record.</summary>
public sealed class MetricsProbe : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();

    public MetricsProbe()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Metrics = new BrokerMetrics(_services.GetRequiredService<IMeterFactory>());
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this probe's meter: other tests' brokers run in parallel in the same process.
            if (instrument.Meter.Scope == factory)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string key = instrument.Name;
            foreach (var tag in tags)
            {
                key += "|" + tag.Value;
            }

            _sums.AddOrUpdate(key, value, (_, sum) => sum + value);
        });
        _listener.Start();
    }

    public BrokerMetrics Metrics { get; }

    public long Dropped(string reason) => _sums.GetValueOrDefault("broker.messages.dropped|" + reason);

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }
}
