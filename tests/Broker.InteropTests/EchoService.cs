using System.Collections.Concurrent;
using Grpc.Core;
using Google.Protobuf;
using Interop.V1;

namespace Broker.InteropTests;

/// <summary>
/// The C# Echo implementation served by Grpc.AspNetCore (on the generated base class); same behaviour as
/// python/server.py. Records which calls saw their cancellation token fire, and how many calls were open at once.
/// </summary>
public sealed class EchoService : Echo.EchoBase
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new();
    private int _active;
    private int _maxActive;

    public int MaxActive => Volatile.Read(ref _maxActive);

    /// <summary>Completes when the handler of the call named <paramref name="callId"/> saw its token fire.</summary>
    public Task Cancelled(string callId) => Signal(callId).Task;

    public override Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) => Watch(context, () => UnaryAsync(request, context));

    public override Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context) =>
        Watch(context, () => ClientStreamAsync(requestStream, context));

    public override Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) =>
        Watch(context, async () => { await ServerStreamAsync(request, responseStream, context); return true; });

    public override Task Bidi(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) =>
        Watch(context, async () => { await BidiAsync(requestStream, responseStream, context); return true; });

    private async Task<EchoReply> UnaryAsync(EchoRequest request, ServerCallContext context)
    {
        if (context.RequestHeaders.GetValueBytes("x-echo-bin") is { } bytes)
        {
            // Metadata round trip: custom response headers sent early, the binary value echoed in a trailer.
            await context.WriteResponseHeadersAsync(new Metadata { { "x-header", "early" } });
            context.ResponseTrailers.Add("x-echo-bin", bytes);
        }

        await DelayAsync(request, context);
        ThrowIfError(request);
        return Reply(request, context, 0, request.Payload.Length);
    }

    private async Task<EchoReply> ClientStreamAsync(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context)
    {
        var messages = new List<string>();
        long received = 0;
        var last = new EchoRequest();
        while (await requests.MoveNext(context.CancellationToken))
        {
            ThrowIfError(requests.Current);
            messages.Add(requests.Current.Message);
            received += requests.Current.Payload.Length;
            last = requests.Current;
        }

        var reply = Reply(last, context, 0, received);
        reply.Message = string.Join(',', messages);
        return reply;
    }

    private async Task ServerStreamAsync(EchoRequest request, IServerStreamWriter<EchoReply> responses, ServerCallContext context)
    {
        Interlocked.Increment(ref _active);
        UpdateMax();
        try
        {
            for (var i = 0; i < request.Count; i++)
            {
                if (i > 0)
                {
                    await DelayAsync(request, context);
                }

                // "batch": every reply but the last is buffered, so all go out in one flush.
                // "batch-hold": the same, then the stream stays open until the client leaves.
                var batch = request.Message is "batch" or "batch-hold";
                responses.WriteOptions = batch && i < request.Count - 1 ? new WriteOptions(WriteFlags.BufferHint) : WriteOptions.Default;
                await responses.WriteAsync(Reply(request, context, i, request.Payload.Length));
            }

            if (request.Message == "batch-hold")
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }

            ThrowIfError(request);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private async Task BidiAsync(IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoReply> responses, ServerCallContext context)
    {
        var i = 0;
        while (await requests.MoveNext(context.CancellationToken))
        {
            var request = requests.Current;
            ThrowIfError(request);
            await DelayAsync(request, context);
            await responses.WriteAsync(Reply(request, context, i++, request.Payload.Length));
        }
    }

    private async Task DelayAsync(EchoRequest request, ServerCallContext context)
    {
        if (request.DelayMs <= 0)
        {
            return;
        }

        await Task.Delay(request.DelayMs, context.CancellationToken);
    }

    /// <summary>Runs a handler, recording its call (by x-call-id) when its token fired before it finished.</summary>
    private async Task<T> Watch<T>(ServerCallContext context, Func<Task<T>> handler)
    {
        try
        {
            return await handler();
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            if (context.RequestHeaders.GetValue("x-call-id") is { } id)
            {
                Signal(id).TrySetResult();
            }

            throw;
        }
    }

    private static void ThrowIfError(EchoRequest request)
    {
        if (request.ErrorCode == -1)
        {
            // A bug in a handler: the server must answer UNKNOWN without leaking this text.
            throw new InvalidOperationException("secret internal detail");
        }

        if (request.ErrorCode != 0)
        {
            throw new RpcException(new Status((StatusCode)request.ErrorCode, request.ErrorMessage));
        }
    }

    private static EchoReply Reply(EchoRequest request, ServerCallContext context, int index, long received) => new()
    {
        Message = request.Message,
        Payload = ByteString.CopyFrom(new byte[request.ReplySize]),
        Index = index,
        ReceivedSize = received,
        Peer = context.Peer,
        Authorization = context.RequestHeaders.GetValue("authorization") ?? string.Empty,
    };

    private TaskCompletionSource Signal(string callId) =>
        _cancelled.GetOrAdd(callId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private void UpdateMax()
    {
        var current = Volatile.Read(ref _active);
        int seen;
        while (current > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, current, seen) != seen)
        {
        }
    }
}
