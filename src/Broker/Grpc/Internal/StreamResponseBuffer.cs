using System.IO.Pipelines;
using Broker.V1;
using Microsoft.AspNetCore.Http.Features;

namespace Broker.Grpc.Internal;

/// <summary>
/// Gives the <c>Subscribe</c> and <c>PublishStream</c> calls a response body that gathers what is written between two
/// flushes in its own pooled buffer and hands it to Kestrel in one write at the stream's flush.
/// </summary>
/// <remarks>
/// Written by hand because Grpc.AspNetCore writes each message's prefix and payload straight into Kestrel's
/// HTTP/2 response pipe, whose every GetSpan/Advance takes the stream's lock: four lock round trips per message,
/// where a batch (up to 256 deliveries, up to 64 replies) needs one. For PublishStream the profile showed it: the
/// reply's serializer spent a third of its time (1.7 % of the broker's CPU) in Kestrel's GetSpan for the 5-byte
/// prefix alone (docs/performance.md, "gRPC on the packages: the write paths, logging scopes and the thread pool").
/// </remarks>
internal sealed class StreamResponseBuffer(RequestDelegate next)
{
    /// <summary>
    /// Subscribe's segment: 64 KiB, a batch of a few hundred ~150-byte deliveries in one segment, so a flush is
    /// one write into Kestrel's pipe.
    /// </summary>
    private const int SubscribeSegmentSize = 64 * 1024;

    /// <summary>
    /// PublishStream's segment: 4 KiB holds a full batch of 64 replies of ~50 bytes; a stream holds no more while
    /// it waits for requests.
    /// </summary>
    private const int PublishStreamSegmentSize = 4 * 1024;

    private static readonly PathString SubscribePath = "/" + BrokerMethods.Subscribe.FullName.TrimStart('/');

    private static readonly PathString PublishStreamPath = "/" + BrokerMethods.PublishStream.FullName.TrimStart('/');

    /// <summary>
    /// Passes every other request straight on without an async frame of its own: a WebSocket request runs for the
    /// socket's whole life, and an awaiting middleware would hold its state machine (about 128 B) that long.
    /// </summary>
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        int segment = path.Equals(SubscribePath, StringComparison.Ordinal) ? SubscribeSegmentSize
            : path.Equals(PublishStreamPath, StringComparison.Ordinal) ? PublishStreamSegmentSize
            : 0;
        return segment == 0 || context.Features.Get<IHttpResponseBodyFeature>() is not { } kestrel
            ? next(context)
            : InvokeBufferedAsync(context, kestrel, segment);
    }

    private async Task InvokeBufferedAsync(HttpContext context, IHttpResponseBodyFeature kestrel, int segment)
    {
        var feature = new BufferedBodyFeature(kestrel, PipeWriter.Create(kestrel.Stream, new StreamPipeWriterOptions(minimumBufferSize: segment, leaveOpen: true)));
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
