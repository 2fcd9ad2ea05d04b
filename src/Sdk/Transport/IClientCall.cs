using Broker.GrpcTransport;

namespace Broker.Sdk.Transport;

/// <summary>What the call objects need from a running call, whatever its message types.</summary>
internal interface IClientCall : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    Status GetStatus();

    Metadata GetTrailers();
}
