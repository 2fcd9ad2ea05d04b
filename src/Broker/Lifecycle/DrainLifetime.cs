using Broker.Core;
using Microsoft.Extensions.Options;

namespace Broker.Lifecycle;

/// <summary>
/// Drives the graceful drain: <see cref="DrainState.BeginDrain"/> the moment the application starts to
/// stop (SIGTERM, <c>StopAsync</c>), then, in <see cref="StoppingAsync"/>, waits until every request has
/// ended or <see cref="BrokerOptions.DrainTimeout"/> has passed. StoppingAsync, not StopAsync: the host
/// runs every StoppingAsync before any StopAsync, and Kestrel (registered after the app's services,
/// so stopped first) stops listening in its StopAsync; newcomers must meet 503 and UNAVAILABLE, not a
/// closed port, while the drain runs.
/// </summary>
internal sealed class DrainLifetime(
    DrainState drain,
    IHostApplicationLifetime lifetime,
    IOptions<BrokerOptions> options,
    TimeProvider time,
    ILogger<DrainLifetime> logger) : IHostedLifecycleService
{
    /// <summary>How often the drain looks at what is left: short against the drain timeout, cheap for the last seconds of a process.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopping fires before any hosted service is asked to stop: /readyz says 503 from then.
        _stopping = lifetime.ApplicationStopping.UnsafeRegister(static s => ((DrainLifetime)s!).Begin(), this);
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Begin();
        var timeout = options.Value.DrainTimeout;
        long started = time.GetTimestamp();
        // A signal per request would put a lock on every request's way out; polling costs the drain alone.
        while (drain.InFlight > 0 && time.GetElapsedTime(started) < timeout && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        int remaining = drain.InFlight;
        var elapsed = time.GetElapsedTime(started);
        LifecycleLog.Drained(logger, remaining, elapsed);
        await _stopping.DisposeAsync();
    }

    private void Begin()
    {
        if (!drain.IsDraining)
        {
            LifecycleLog.Draining(logger, options.Value.DrainTimeout);
            drain.BeginDrain();
        }
    }
}
