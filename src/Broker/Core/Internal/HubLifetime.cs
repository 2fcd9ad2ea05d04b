using Broker.Core;
using Microsoft.Extensions.Hosting;

namespace Broker.Core.Internal;

/// <summary>
/// Starts the engine before anything else starts: <see cref="IHostedLifecycleService.StartingAsync"/>
/// runs ahead of every hosted service's StartAsync, Kestrel's included, so no request can reach a hub
/// whose engine is not running.
/// </summary>
internal sealed class HubLifetime(Hub hub) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => hub.StartAsync(cancellationToken).AsTask();

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken) => await hub.Engine.DisposeAsync();
}
