using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Sdk.Transport;

/// <summary>The response stream of a client call.</summary>
internal sealed class ClientCallStreamReader<TRequest, TResponse> : IAsyncStreamReader<TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcCall<TRequest, TResponse> _call;
    private TResponse? _current;
    private int _reading;

    public ClientCallStreamReader(GrpcCall<TRequest, TResponse> call)
    {
        _call = call;
    }

    public TResponse Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("Can't read the next message because the previous read is still in progress.");
        }

        try
        {
            if (!cancellationToken.IsCancellationRequested && _call.TryReadAhead(out var ahead))
            {
                // Parsed ahead by the previous read: no await, and Task<bool> true is cached, so nothing allocated.
                _current = ahead;
                return true;
            }

            _current = await _call.ReadMessageAsync(cancellationToken);
            return _current is not null;
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }
}
