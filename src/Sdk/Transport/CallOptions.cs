using Broker.GrpcTransport;

namespace Broker.Sdk.Transport;

/// <summary>Per-call options, as Grpc.Core's <c>CallOptions</c>.</summary>
public readonly struct CallOptions
{
    /// <summary>Creates options.</summary>
    /// <param name="headers">Custom metadata sent as request headers (e.g. <c>authorization</c>).</param>
    /// <param name="deadline">When the call must end (UTC); null for none. Sent as <c>grpc-timeout</c> and enforced locally.</param>
    /// <param name="cancellationToken">Cancels the call: the client resets the HTTP/2 stream.</param>
    public CallOptions(Metadata? headers = null, DateTime? deadline = null, CancellationToken cancellationToken = default)
    {
        Headers = headers;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>Custom metadata sent as request headers.</summary>
    public Metadata? Headers { get; }

    /// <summary>The deadline (UTC), or null.</summary>
    public DateTime? Deadline { get; }

    /// <summary>Cancels the call.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>A copy with other headers.</summary>
    public CallOptions WithHeaders(Metadata headers) => new(headers, Deadline, CancellationToken);

    /// <summary>A copy with another deadline.</summary>
    public CallOptions WithDeadline(DateTime deadline) => new(Headers, deadline, CancellationToken);

    /// <summary>A copy with another cancellation token.</summary>
    public CallOptions WithCancellationToken(CancellationToken cancellationToken) => new(Headers, Deadline, cancellationToken);
}
