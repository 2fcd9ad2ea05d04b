namespace Broker.GrpcTransport;

/// <summary>The request stream of a client call.</summary>
/// <typeparam name="T">The request message type.</typeparam>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Ends the request stream (half-close): the server's reader sees the end.</summary>
    Task CompleteAsync();
}
