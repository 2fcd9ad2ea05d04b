using Broker.Lifecycle;
namespace Broker.Lifecycle.Internal;

/// <summary>Counts every request in and out of <see cref="DrainState"/>: the drain waits for them.</summary>
internal sealed class DrainMiddleware(RequestDelegate next, DrainState drain)
{
    /// <summary>The status detail of a call refused or ended by the drain.</summary>
    public const string ShuttingDown = "The broker is shutting down; try another.";

    public async Task InvokeAsync(HttpContext context)
    {
        drain.Enter();
        try
        {
            await next(context);
        }
        finally
        {
            drain.Exit();
        }
    }
}
