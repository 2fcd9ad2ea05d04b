using Broker.Lifecycle;
using Microsoft.Extensions.Options;

namespace Broker.Lifecycle.Internal;

/// <summary>
/// Drives the graceful drain: <see cref="DrainState.BeginDrain"/> the moment the application starts to
/// stop (SIGTERM, <c>StopAsync</c>), then, in <see cref="StoppingAsync"/>, waits until every request has
/// ended or <see cref="DrainOptions.DrainTimeout"/> has passed. StoppingAsync, not StopAsync: the host
/// runs every StoppingAsync before any StopAsync, and Kestrel (registered after the app's services,
/// so stopped first) stops listening in its StopAsync; newcomers must meet 503 and UNAVAILABLE, not a
/// closed port, while the drain runs.
/// </summary>
internal sealed class DrainLifetime(
    DrainState drain,
    IHostApplicationLifetime lifetime,
    IOptions<DrainOptions> options,
    ILogger<DrainLifetime> logger) : IHostedLifecycleService
{
    private readonly Lock _beginGate = new();
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
        // The real clock, not the injected one: the drain bounds how long a process takes to exit (the
        // host's shutdown timeout is real time too), and a test's manual clock must not hold a stop forever.
        var time = TimeProvider.System;
        long started = time.GetTimestamp();
        try
        {
            await drain.WhenIdleAsync().WaitAsync(timeout, time, cancellationToken);
        }
        catch (Exception error) when (error is TimeoutException or OperationCanceledException)
        {
            // Past the drain timeout (or the host's own): what is left is Kestrel's to close or abort.
        }

        int remaining = drain.InFlight;
        var elapsed = time.GetElapsedTime(started);
        LifecycleLog.Drained(logger, remaining, elapsed);
        await _stopping.DisposeAsync();
    }

    private void Begin()
    {
        // SIGTERM's thread (ApplicationStopping) and the host's stop (StoppingAsync) both get here, at the same time on
        // a signal. Under the gate, the first logs and begins, and the second waits for it: "Draining" is logged once,
        // and before StoppingAsync can log "Drained". Once per process, so a lock costs nothing.
        lock (_beginGate)
        {
            if (!drain.IsDraining)
            {
                LifecycleLog.Draining(logger, options.Value.DrainTimeout);
                drain.BeginDrain();
            }
        }
    }
}
