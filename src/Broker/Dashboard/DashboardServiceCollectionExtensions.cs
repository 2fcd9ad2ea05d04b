using Broker.Core;
using Broker.Dashboard.Internal;
using Broker.Stats;
using Microsoft.Extensions.Options;

namespace Broker.Dashboard;

/// <summary>Registers the live dashboard and its feed.</summary>
public static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="DashboardOptions"/> (bound from <c>Broker:Dashboard</c>), the feed's namespace
    /// <c>$broker</c> (a snapshot a second kept for the dashboard's window: 5 minutes, 300 publications;
    /// open to browsers only when the dashboard is enabled) and the publisher of the snapshots.
    /// </summary>
    public static IServiceCollection AddBrokerDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DashboardOptions>().Bind(configuration.GetSection(DashboardOptions.SectionName));
        services.AddSingleton(static sp => new ReservedNamespace(ChannelNames.BrokerNamespace, new NamespaceOptions
        {
            HistorySize = DashboardOptions.HistorySnapshots,
            HistoryTtl = DashboardOptions.Window,
            Subscribe = sp.GetRequiredService<IOptions<DashboardOptions>>().Value.Enabled ? Permission.Anyone : Permission.None,
            Publish = Permission.None,
        }));
        services.AddHostedService<DashboardPublisher>();
        return services;
    }
}
