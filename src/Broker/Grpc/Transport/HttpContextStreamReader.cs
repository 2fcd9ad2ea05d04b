using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Grpc.Transport;

/// <summary>
/// Reads request messages from the HTTP/2 request body of a streaming call. Messages that arrived together are
/// parsed together (at most <see cref="MaxBatch"/>) and handed out one per <see cref="MoveNext"/>, which then
/// completes synchronously: one body read and one flow-control update per batch, not per message.
/// </summary>
internal sealed class HttpContextStreamReader<T> : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private readonly HttpServerCallContext _call;
    // Bounds how far parsing runs ahead of the handler: a handler that reads one request per published message
    // still holds back a fast client (the rest waits in Kestrel's flow-controlled buffer, unparsed).
    private const int MaxBatch = 128;

    private readonly MessageParser<T> _parser;
    private static readonly Task<bool> CachedTrue = Task.FromResult(true);

    private readonly Queue<T> _batch = new();
    private T? _current;
    private int _reading;
    private bool _completed;

    public HttpContextStreamReader(HttpServerCallContext call, MessageParser<T> parser)
    {
        _call = call;
        _parser = parser;
    }

    public T Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first.");

    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_batch.Count > 0 && Volatile.Read(ref _reading) == 0 && !cancellationToken.IsCancellationRequested && !_call.CancellationToken.IsCancellationRequested)
        {
            // Read ahead by the last body read: no state machine, and the true Task is cached. A concurrent MoveNext
            // (a caller bug) takes the slow path, which reports it.
            _current = _batch.Dequeue();
            return CachedTrue;
        }

        return MoveNextAsync(cancellationToken);
    }

    private async Task<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("Can't read the next message because the previous read is still in progress.");
        }

        try
        {
            if (_completed)
            {
                return false;
            }

            var callToken = _call.CancellationToken;
            if (!cancellationToken.CanBeCanceled || cancellationToken == callToken)
            {
                return await ReadAsync(callToken);
            }

            // Both the caller's token and the call's (deadline, client cancel) must stop the read.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(callToken, cancellationToken);
            return await ReadAsync(linked.Token);
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    private async Task<bool> ReadAsync(CancellationToken token)
    {
        // A cancelled call hands out nothing more, read ahead or not, as a pending body read would fail.
        token.ThrowIfCancellationRequested();
        if (_batch.Count == 0 && !await _call.ReadMessagesAsync(_parser, _batch, MaxBatch, token))
        {
            _completed = true;
            _current = null;
            return false;
        }

        _current = _batch.Dequeue();
        return true;
    }
}
