using Broker.Stats;
namespace Broker.Stats.Internal;

/// <summary>
/// Makes the observable instruments exist from the start (a listener sees them as soon as it subscribes)
/// and runs the stats sampler for the life of the host.
/// </summary>
internal sealed class StatsLifetime(BrokerGauges gauges, StatsSampler sampler) : IHostedService
{
    /// <summary>The gauges, held so they live with the host.</summary>
    public BrokerGauges Gauges { get; } = gauges;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        sampler.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        sampler.Dispose();
        return Task.CompletedTask;
    }
}
