using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Broker.FunctionalTests.Infrastructure;

/// <summary>Listens to one broker's instruments (only that broker's meter: tests run servers in parallel) and sums what they record.</summary>
public sealed class ServerMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();

    public ServerMetrics(BrokerServer server)
    {
        var factory = server.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
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

    /// <summary>The sum recorded by <paramref name="instrument"/> with these tag values (in tag order).</summary>
    public long Sum(string instrument, params string[] tagValues) =>
        _sums.GetValueOrDefault(tagValues.Length == 0 ? instrument : instrument + "|" + string.Join('|', tagValues));

    public void Dispose() => _listener.Dispose();
}
