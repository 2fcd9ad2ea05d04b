using Broker.V1;
using Grpc.AspNetCore.Server.Model;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary>
    /// Binds the RPCs for <c>MapGrpcService&lt;BrokerGrpcService&gt;()</c>, as a generated <c>BindService</c> would,
    /// but with <see cref="BrokerMethods.SubscribeEncoded"/>: Subscribe writes pre-encoded deliveries; and a request that
    /// does not parse is INVALID_ARGUMENT (<see cref="RequestParsing"/>).
    /// </summary>
    internal sealed class MethodProvider : IServiceMethodProvider<BrokerGrpcService>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<BrokerGrpcService> context)
        {
            context.AddUnaryMethod(RequestParsing.Guarded(BrokerMethods.Publish), [], static (service, request, call) => service.PublishAsync(request, call));
            context.AddDuplexStreamingMethod(RequestParsing.Guarded(BrokerMethods.PublishStream), [], static (service, requests, replies, call) => service.PublishStreamAsync(requests, replies, call));
            context.AddServerStreamingMethod(RequestParsing.Guarded(BrokerMethods.SubscribeEncoded), [], static (service, request, responses, call) => service.SubscribeAsync(request, responses, call));
            context.AddDuplexStreamingMethod(RequestParsing.Guarded(BrokerMethods.Handle), [], static (service, requests, responses, call) => service.HandleAsync(requests, responses, call));
            context.AddUnaryMethod(RequestParsing.Guarded(BrokerMethods.IssueTicket), [], static (service, request, call) => service.IssueTicketAsync(request, call));
            context.AddUnaryMethod(RequestParsing.Guarded(BrokerMethods.Disconnect), [], static (service, request, call) => service.DisconnectAsync(request, call));
            context.AddUnaryMethod(RequestParsing.Guarded(BrokerMethods.History), [], static (service, request, call) => service.HistoryAsync(request, call));
            context.AddUnaryMethod(RequestParsing.Guarded(BrokerMethods.Presence), [], static (service, request, call) => service.PresenceAsync(request, call));
        }
    }
}
