using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Grpc.Transport;

/// <summary>Reads request messages from the HTTP/2 request body of a streaming call.</summary>
internal sealed class HttpContextStreamReader<T> : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private readonly HttpServerCallContext _call;
    private readonly MessageParser<T> _parser;
    private T? _current;
    private int _reading;
    private bool _completed;

    public HttpContextStreamReader(HttpServerCallContext call, MessageParser<T> parser)
    {
        _call = call;
        _parser = parser;
    }

    public T Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
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
        var message = await _call.ReadMessageAsync(_parser, token);
        if (message is null)
        {
            _completed = true;
            _current = null;
            return false;
        }

        _current = message;
        return true;
    }
}
