using Broker.Core;
using Broker.Core.Cluster;
using Microsoft.Extensions.Hosting;

namespace Broker.Core.Internal;

/// <summary>
/// Starts the engine before anything else starts: <see cref="IHostedLifecycleService.StartingAsync"/>
/// runs ahead of every hosted service's StartAsync, Kestrel's included, so no request can reach a hub
/// whose engine is not running. The cluster control is made first (it takes the engine's control messages)
/// and starts watching the other nodes once the engine runs.
/// </summary>
internal sealed class HubLifetime(Hub hub, ClusterControl cluster) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await hub.StartAsync(cancellationToken);
        cluster.Start();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await cluster.DisposeAsync();
        await hub.Engine.DisposeAsync();
    }
}
