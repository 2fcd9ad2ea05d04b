using System.Net;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Broker.Grpc.Internal;

/// <summary>
/// Lets a backend call in: with keys configured, it must present one as <c>authorization: Bearer
/// &lt;key&gt;</c>; with none, only loopback callers are served (PROTOCOL.md). Else <c>UNAUTHENTICATED</c>.
/// </summary>
internal sealed class ApiKeyAuthenticator
{
    private readonly byte[][] _keys;

    public ApiKeyAuthenticator(IOptions<GrpcServiceOptions> options)
    {
        _keys = [.. options.Value.ApiKeys.Where(static k => !string.IsNullOrEmpty(k)).Select(static k => Encoding.UTF8.GetBytes(k))];
    }

    /// <summary>True when no key is configured: loopback only.</summary>
    public bool LoopbackOnly => _keys.Length == 0;

    /// <summary>Throws <c>UNAUTHENTICATED</c> unless the call may proceed.</summary>
    public void Check(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        if (_keys.Length == 0)
        {
            var remote = http.Connection.RemoteIpAddress;
            if (remote is null || !IPAddress.IsLoopback(remote))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "No API key is configured: this broker serves gRPC calls from loopback only."));
            }

            return;
        }

        // From the HTTP request itself: ServerCallContext.RequestHeaders would build a Metadata of every header per call.
        string? header = http.Request.Headers.Authorization;
        const string Scheme = "Bearer ";
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "An API key is required: 'authorization: Bearer <key>'."));
        }

        var presented = Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim());
        foreach (var key in _keys)
        {
            // Fixed-time comparison: the time taken must not reveal how much of a key matched.
            if (CryptographicOperations.FixedTimeEquals(presented, key))
            {
                return;
            }
        }

        throw new RpcException(new Status(StatusCode.Unauthenticated, "The API key is not valid."));
    }
}
