using Broker.Core;
using Broker.Dashboard;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Stats;
using Microsoft.Extensions.Options;

namespace Broker.Dashboard.Internal;

/// <summary>
/// When the dashboard is enabled, publishes each stats sample (one a second) to <c>$broker:stats</c>,
/// event <c>stats</c>, so the dashboard is fed over the broker's own WebSocket and its history fills the
/// charts at once.
/// </summary>
internal sealed class DashboardPublisher(StatsSampler sampler, Hub hub, IOptions<DashboardOptions> options, ILogger<DashboardPublisher> logger) : IHostedService
{
    /// <summary>The event name of a stats publication.</summary>
    public const string StatsEvent = "stats";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Enabled)
        {
            sampler.Sampled += OnSampled;
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        sampler.Sampled -= OnSampled;
        return Task.CompletedTask;
    }

    private void OnSampled(StatsSnapshot snapshot) => _ = PublishAsync(snapshot);

    private async Task PublishAsync(StatsSnapshot snapshot)
    {
        try
        {
            if (hub.Engine.IsHealthy)
            {
                await hub.PublishAsync(new PublishCommand(ChannelNames.BrokerStats, StatsEvent, snapshot.ToJson()), CancellationToken.None);
            }
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // A missed snapshot is a gap in a chart, not a fault: say so and carry on.
            DashboardLog.PublishFailed(logger, error);
        }
    }
}

/// <summary>The dashboard's log messages (event ids 9200–9299).</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(EventId = 9200, EventName = "StatsPublishFailed", Level = LogLevel.Warning, Message = "Could not publish a stats snapshot to the dashboard's channel.")]
    public static partial void PublishFailed(ILogger logger, Exception error);
}
