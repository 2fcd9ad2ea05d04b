using System.IO.Pipelines;
using Broker.V1;
using Microsoft.AspNetCore.Http.Features;

namespace Broker.Grpc.Internal;

/// <summary>
/// Gives a <c>Subscribe</c> call a response body that gathers a whole batch of deliveries in its own pooled buffer
/// and hands it to Kestrel in one write at the stream's flush.
/// </summary>
/// <remarks>
/// Written by hand because Grpc.AspNetCore writes each message's prefix and payload straight into Kestrel's
/// HTTP/2 response pipe, whose every GetSpan/Advance takes the stream's lock: four lock round trips per delivery,
/// where a batch of up to 256 deliveries (the Subscribe drain loop's flush) needs one. Only Subscribe: PublishStream's
/// replies flush whenever the client pauses, often a batch of one, and measured no better through it.
/// </remarks>
internal sealed class SubscribeResponseBuffer(RequestDelegate next)
{
    /// <summary>
    /// The buffer's segment: 64 KiB, a batch of a few hundred ~150-byte deliveries in one segment, so a flush is
    /// one write into Kestrel's pipe.
    /// </summary>
    private const int SegmentSize = 64 * 1024;

    private static readonly PathString SubscribePath = "/" + BrokerMethods.Subscribe.FullName.TrimStart('/');

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.Equals(SubscribePath, StringComparison.Ordinal) || context.Features.Get<IHttpResponseBodyFeature>() is not { } kestrel)
        {
            await next(context);
            return;
        }

        var feature = new BufferedBodyFeature(kestrel, PipeWriter.Create(kestrel.Stream, new StreamPipeWriterOptions(minimumBufferSize: SegmentSize, leaveOpen: true)));
        context.Features.Set<IHttpResponseBodyFeature>(feature);
        try
        {
            await next(context);
            // What the call left unflushed goes into Kestrel's pipe before Kestrel writes the trailers.
            await feature.CompleteAsync();
        }
        finally
        {
            context.Features.Set(kestrel);
        }
    }

    /// <summary>Kestrel's response body with our buffering writer in front (Grpc.AspNetCore writes only through the writer).</summary>
    private sealed class BufferedBodyFeature(IHttpResponseBodyFeature inner, PipeWriter writer) : IHttpResponseBodyFeature
    {
        public Stream Stream => inner.Stream;

        public PipeWriter Writer => writer;

        /// <summary>Sends what the writer holds into Kestrel's pipe; Kestrel ends the response itself.</summary>
        public Task CompleteAsync() => writer.CompleteAsync().AsTask();

        public void DisableBuffering()
        {
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            inner.SendFileAsync(path, offset, count, cancellationToken);

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);
    }
}
