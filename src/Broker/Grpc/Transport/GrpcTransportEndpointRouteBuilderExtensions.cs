using Broker.Grpc.Transport;
using Broker.GrpcTransport;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// In the routing namespace, as grpc-dotnet's MapGrpcService is, so the broker's composition needs no extra using.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the gRPC services registered with <c>AddGrpcTransportService</c>.</summary>
public static class GrpcTransportEndpointRouteBuilderExtensions
{
    // The unimplemented catch-all must lose to every other route, including other parameterized ones.
    private const int FallbackOrder = 1_000_000;

    /// <summary>
    /// Maps <c>POST /{service}/{method}</c> for every method of every registered service, and a catch-all that
    /// answers gRPC calls to unknown services or methods with UNIMPLEMENTED (trailers-only, HTTP 200).
    /// </summary>
    public static IEndpointRouteBuilder MapGrpcTransport(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var sp = endpoints.ServiceProvider;
        var options = sp.GetService<IOptions<GrpcTransportOptions>>()?.Value
            ?? throw new InvalidOperationException("Call services.AddGrpcTransport() before MapGrpcTransport().");
        var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Broker.Grpc.Transport");
        var services = new HashSet<string>(StringComparer.Ordinal);
        foreach (var definition in sp.GetServices<ServerServiceDefinition>())
        {
            foreach (var method in definition.Methods)
            {
                var handler = method.CreateHandler(options, logger);
                services.Add(method.ServiceName);
                endpoints.MapPost(method.FullName, handler.HandleAsync).WithDisplayName("gRPC " + method.FullName);
            }
        }

        endpoints.MapPost("/{service}/{method}", context => Unimplemented(context, services, logger))
            .WithDisplayName("gRPC unimplemented")
            .Add(static builder => ((RouteEndpointBuilder)builder).Order = FallbackOrder);
        return endpoints;
    }

    private static Task Unimplemented(HttpContext http, HashSet<string> services, ILogger logger)
    {
        if (!GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            // Not a gRPC call: leave non-gRPC clients the 404 they would get without this route.
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!ServerCallHandler.ValidateRequest(http, logger))
        {
            return Task.CompletedTask;
        }

        GrpcTransportLog.Unimplemented(logger, http.Request.Path);
        var service = http.Request.RouteValues["service"] as string ?? string.Empty;
        var detail = services.Contains(service) ? "Method is unimplemented." : "Service is unimplemented.";
        ServerCallHandler.WriteTrailersOnly(http, new Status(StatusCode.Unimplemented, detail), null);
        return Task.CompletedTask;
    }
}
