using System.IO.Pipelines;
using Broker.V1;
using Microsoft.AspNetCore.Http.Features;

namespace Broker.Grpc.Internal;

/// <summary>
/// Gives a <c>PublishStream</c> call a request body that serves every publication of one Kestrel read before reading
/// again (<see cref="ReadAheadPipeReader"/>).
/// </summary>
/// <remarks>
/// Only PublishStream: it is the request stream that carries many small messages per read (an SDK publisher pipelines
/// up to its window in one write). <c>Handle</c> carries a few replies at a time and gains nothing.
/// </remarks>
internal sealed class PublishStreamRequestBuffer(RequestDelegate next)
{
    private static readonly PathString PublishStreamPath = "/" + BrokerMethods.PublishStream.FullName.TrimStart('/');

    /// <summary>Passes every other request straight on without an async frame of its own (a WebSocket request would hold it for the socket's life).</summary>
    public Task InvokeAsync(HttpContext context) =>
        !context.Request.Path.Equals(PublishStreamPath, StringComparison.Ordinal) || context.Features.Get<IRequestBodyPipeFeature>() is not { } kestrel
            ? next(context)
            : InvokeReadAheadAsync(context, kestrel);

    private async Task InvokeReadAheadAsync(HttpContext context, IRequestBodyPipeFeature kestrel)
    {
        var reader = new ReadAheadPipeReader(kestrel.Reader);
        context.Features.Set<IRequestBodyPipeFeature>(new ReadAheadBodyFeature(reader));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(kestrel);
            try
            {
                // What the call took of the last read is released to Kestrel, which then ends the request body itself.
                reader.ReleaseHeld();
            }
            catch (InvalidOperationException)
            {
                // Kestrel already completed the body (the stream was reset): nothing is left to release.
            }
        }
    }

    private sealed class ReadAheadBodyFeature(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }
}
