using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

using Microsoft.Extensions.DependencyInjection;

namespace Broker.Testing;

/// <summary>
/// Listens to one broker's instruments (only the meters of that broker's <see cref="IMeterFactory"/>: tests run
/// brokers in parallel): sums what counters record, counts histogram records, and reads observable instruments on
/// demand. Shared by the unit tests (a factory of their own) and the functional tests (a running broker's).
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();
    private readonly ConcurrentDictionary<string, long> _records = new();
    private readonly ConcurrentDictionary<string, double> _observed = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ServerMetrics(BrokerServer server)
        : this(server.Services.GetRequiredService<IMeterFactory>())
    {
    }

    public ServerMetrics(IMeterFactory factory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == factory)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The sum recorded by <paramref name="instrument"/> with these tag values (in tag order).</summary>
    public long Sum(string instrument, params string[] tagValues) => _sums.GetValueOrDefault(Key(instrument, tagValues));

    /// <summary>How many values the histogram <paramref name="instrument"/> recorded.</summary>
    public long Records(string instrument) => _records.GetValueOrDefault(instrument);

    /// <summary>Collects the observable instruments now and returns what <paramref name="instrument"/> reported with these tag values.</summary>
    public double Observe(string instrument, params string[] tagValues)
    {
        _listener.RecordObservableInstruments();
        return _observed.TryGetValue(Key(instrument, tagValues), out double value) ? value : double.NaN;
    }

    /// <summary>Waits (at most <see cref="BrokerServer.DefaultTimeout"/>) until <see cref="Sum"/> of these tag values reaches <paramref name="atLeast"/>.</summary>
    public async Task WaitForSumAsync(string instrument, long atLeast, params string[] tagValues)
    {
        using var timeout = new CancellationTokenSource(BrokerServer.DefaultTimeout);
        while (true)
        {
            var changed = Volatile.Read(ref _changed);
            if (Sum(instrument, tagValues) >= atLeast)
            {
                return;
            }

            await changed.Task.WaitAsync(timeout.Token);
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string Key(string instrument, string[] tagValues) =>
        tagValues.Length == 0 ? instrument : instrument + "|" + string.Join('|', tagValues);

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string key = instrument.Name;
        foreach (var tag in tags)
        {
            key += "|" + tag.Value;
        }

        if (instrument.IsObservable)
        {
            _observed[key] = value;
        }
        else if (instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal))
        {
            _records.AddOrUpdate(instrument.Name, 1, (_, n) => n + 1);
        }
        else
        {
            _sums.AddOrUpdate(key, (long)value, (_, sum) => sum + (long)value);
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }
}
