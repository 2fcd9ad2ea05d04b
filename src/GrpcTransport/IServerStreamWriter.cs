namespace Broker.GrpcTransport;

/// <summary>The response stream of a server handler; the stream ends when the handler returns.</summary>
/// <typeparam name="T">The response message type.</typeparam>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}
