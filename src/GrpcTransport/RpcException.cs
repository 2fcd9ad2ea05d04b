namespace Broker.GrpcTransport;

/// <summary>
/// A call ended with a non-OK <see cref="Status"/>. Thrown by a server handler, it becomes the call's status
/// (and its <see cref="Trailers"/> the response trailers); on the client it reports the status received.
/// </summary>
public class RpcException : Exception
{
    /// <summary>Creates the exception for a status, with no trailers.</summary>
    public RpcException(Status status)
        : this(status, new Metadata(), status.ToString())
    {
    }

    /// <summary>Creates the exception for a status and its trailers.</summary>
    public RpcException(Status status, Metadata trailers)
        : this(status, trailers, status.ToString())
    {
    }

    /// <summary>Creates the exception for a status and its trailers, with a custom exception message.</summary>
    public RpcException(Status status, Metadata trailers, string message)
        : base(message)
    {
        Status = status;
        Trailers = trailers ?? new Metadata();
    }

    /// <summary>The call's status.</summary>
    public Status Status { get; }

    /// <summary>The call's status code.</summary>
    public StatusCode StatusCode => Status.StatusCode;

    /// <summary>The call's trailers (server: sent with the status; client: received with it).</summary>
    public Metadata Trailers { get; }
}
