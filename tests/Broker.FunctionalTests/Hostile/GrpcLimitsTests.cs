using Broker.V1;
using Grpc.Core;
using Grpc.Net.Client;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// The gRPC limits (README, "Limits and hardening"): entries per Subscribe, events per Handle registration, one
/// registration per Handle stream. Each refusal is RESOURCE_EXHAUSTED naming the setting, counted in
/// <c>broker.limits.refused</c>, and costs nothing else.
/// </summary>
public sealed class GrpcLimitsTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task ASubscribeOverMaxSubscriptionsPerStream_IsResourceExhausted_AndCounted_AndAtTheLimitItIsServed()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Grpc:MaxSubscriptionsPerStream", "3")));
        using var metrics = new ServerMetrics(server);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var invoker = channel.CreateCallInvoker();

        using (var over = invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, new CallOptions(deadline: DateTime.UtcNow + Timeout), new SubscribeRequest { Channels = { "room:a", "room:b", "room:c*", "room:d" } }))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => over.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
            Assert.Contains("Broker:Grpc:MaxSubscriptionsPerStream", refused.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(1, metrics.Sum("broker.limits.refused", "grpc_subscriptions"));
        using var atLimit = invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, new CallOptions(deadline: DateTime.UtcNow + Timeout), new SubscribeRequest { Channels = { "room:a", "room:b", "room:c*" } });
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await atLimit.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(Delivery.KindOneofCase.Subscribed, atLimit.ResponseStream.Current.KindCase);
        }

        GrpcHostile.AssertNoErrorLogged(server, "subscriptions");
    }

    [Fact]
    public async Task ARegistrationOverMaxHandlerEvents_OrASecondRegistration_EndsTheStreamResourceExhausted_Counted()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Grpc:MaxHandlerEvents", "2")));
        using var metrics = new ServerMetrics(server);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var invoker = channel.CreateCallInvoker();

        using (var over = invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, new CallOptions(deadline: DateTime.UtcNow + Timeout)))
        {
            await over.RequestStream.WriteAsync(new HandlerMessage { Register = new V1.HandlerRegistration { Group = "g", Events = { "a", "b", "c.*" } } }).WaitAsync(Timeout);
            var refused = await Assert.ThrowsAsync<RpcException>(() => over.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
            Assert.Contains("Broker:Grpc:MaxHandlerEvents", refused.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(1, metrics.Sum("broker.limits.refused", "handler_events"));

        using var twice = invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, new CallOptions(deadline: DateTime.UtcNow + Timeout));
        await twice.RequestStream.WriteAsync(new HandlerMessage { Register = new V1.HandlerRegistration { Group = "g", Events = { "a", "b.*" } } }).WaitAsync(Timeout);
        Assert.True(await twice.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(HandlerEvent.KindOneofCase.Registered, twice.ResponseStream.Current.KindCase);
        await twice.RequestStream.WriteAsync(new HandlerMessage { Register = new V1.HandlerRegistration { Group = "h", Events = { "c" } } }).WaitAsync(Timeout);
        var second = await Assert.ThrowsAsync<RpcException>(() => twice.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.ResourceExhausted, second.StatusCode);
        Assert.Equal(1, metrics.Sum("broker.limits.refused", "handler_registrations"));

        await GrpcHostile.AssertReleasedAsync(server, "handler limits");
        GrpcHostile.AssertNoErrorLogged(server, "handler limits");
    }
}
