using Broker.Grpc.Transport;
using Broker.GrpcTransport;
using Interop.V1;

namespace Broker.InteropTests;

/// <summary>Binding a service: method groups pick the right handler shape; a mismatched shape is refused.</summary>
public sealed class ServiceDefinitionTests
{
    [Fact]
    public void MethodGroups_BindWithoutCasts()
    {
        var service = new TwoMethodService();
        var definition = service.Bind();
        Assert.NotNull(definition);
    }

    [Fact]
    public void MismatchedShape_Refused()
    {
        var builder = ServerServiceDefinition.CreateBuilder();
        // A unary handler for a server-streaming method.
        Assert.Throws<ArgumentException>(() => builder.AddMethod(EchoMethods.ServerStream, static (EchoRequest _, ServerCallContext _) => Task.FromResult(new EchoReply())));
    }

    [Fact]
    public void SameMethodTwice_Refused()
    {
        var service = new TwoMethodService();
        var builder = ServerServiceDefinition.CreateBuilder().AddMethod(EchoMethods.Unary, service.Unary);
        Assert.Throws<ArgumentException>(() => builder.AddMethod(EchoMethods.Unary, service.Unary));
    }

    /// <summary>The shape the broker's service takes: handlers as methods, bound by method groups.</summary>
    private sealed class TwoMethodService
    {
        public Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) => Task.FromResult(new EchoReply { Message = request.Message });

        public async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responses, ServerCallContext context) =>
            await responses.WriteAsync(new EchoReply { Message = request.Message }, context.CancellationToken);

        public ServerServiceDefinition Bind() => ServerServiceDefinition.CreateBuilder()
            .AddMethod(EchoMethods.Unary, Unary)
            .AddMethod(EchoMethods.ServerStream, ServerStream)
            .Build();
    }
}
