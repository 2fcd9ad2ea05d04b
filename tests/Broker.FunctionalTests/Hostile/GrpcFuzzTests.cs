using Broker.Core;
using Grpc.Core;
using Grpc.Net.Client;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// The seeded fuzz of the gRPC transport (issue 14): malformed, mutated and random protobuf bodies on every RPC of
/// <c>broker.v1.Broker</c>, sent by a real Grpc.Net.Client over one HTTP/2 connection. A body the message's parser
/// refuses is INVALID_ARGUMENT; one it reads gets what the contract says for its fields (never UNKNOWN or
/// INTERNAL, the broker's own faults); nothing is logged at Error; and a Subscribe stream on the same connection
/// receives every publication, in order, throughout. Bounded: 120 inputs per seed.
/// </summary>
public sealed class GrpcFuzzTests
{
    private const int Inputs = 120;

    /// <summary>What a request the parser reads may end with: success, or a refusal of a client's mistake.</summary>
    private static readonly HashSet<StatusCode> ClientStatuses =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.PermissionDenied,
        StatusCode.ResourceExhausted, StatusCode.FailedPrecondition, StatusCode.AlreadyExists,
    ];

    /// <summary>
    /// The seeds ./test.sh runs, plus those in <c>BROKER_FUZZ_SEEDS</c> (as <see cref="WebSocketFuzzTests.Seeds"/>).
    /// Seed 1 found that an unparseable request was UNKNOWN and logged at Error (now INVALID_ARGUMENT).
    /// </summary>
    public static TheoryData<int> Seeds() => WebSocketFuzzTests.Seeds();

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task SeededBodiesOnEveryRpc_GetTheStatusTheContractNames_WhileASubscriberOnTheSameConnectionMissesNothing(int seed)
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var invoker = channel.CreateCallInvoker();
        await using var watcher = await GrpcWatcher.StartAsync(server, invoker);
        var fuzzer = new GrpcFuzzer(seed);
        var rpcs = Enum.GetValues<GrpcRpc>();

        for (int i = 0; i < Inputs; i++)
        {
            await watcher.PublishAsync();
            var rpc = rpcs[i % rpcs.Length];
            var (payload, description) = fuzzer.Next(rpc);
            bool parses = GrpcFuzzer.Parses(rpc, payload);
            var status = await invoker.InvokeAsync(rpc, payload);
            string context = $"seed {seed}, input {i}, {rpc} with {description} ({Convert.ToHexString(payload.AsSpan(0, Math.Min(payload.Length, 48)))}…, parses: {parses})";
            if (parses)
            {
                Assert.True(ClientStatuses.Contains(status), $"{context}: {status}");
            }
            else
            {
                Assert.True(status == StatusCode.InvalidArgument, $"{context}: {status}, not InvalidArgument");
            }
        }

        await watcher.AssertReceivedEverythingAsync($"seed {seed}");
        GrpcHostile.AssertNoErrorLogged(server, $"seed {seed}");
        await GrpcHostile.AssertReleasedAsync(server, $"seed {seed}", streams: 1, subscriptions: 1);
    }

    [Theory]
    [InlineData(GrpcRpc.Publish)]
    [InlineData(GrpcRpc.PublishStream)]
    [InlineData(GrpcRpc.Subscribe)]
    [InlineData(GrpcRpc.Handle)]
    [InlineData(GrpcRpc.HandleReply)]
    [InlineData(GrpcRpc.IssueTicket)]
    [InlineData(GrpcRpc.Disconnect)]
    [InlineData(GrpcRpc.History)]
    [InlineData(GrpcRpc.Presence)]
    public async Task UnknownFields_AreSkipped_AndTheRequestIsServedAsWithout(GrpcRpc rpc)
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var invoker = channel.CreateCallInvoker();
        var hub = server.Services.GetRequiredService<Hub>();

        Assert.Equal(StatusCode.OK, await invoker.InvokeAsync(rpc, GrpcFuzzer.WithUnknownFields(GrpcFuzzer.Valid(rpc))));
        Assert.Equal(StatusCode.OK, await invoker.InvokeAsync(rpc, GrpcFuzzer.Valid(rpc)));
        if (rpc is GrpcRpc.Publish or GrpcRpc.PublishStream)
        {
            // Both were published: the idempotency key is the same, so the second is the first one's repeat.
            Assert.Equal(1, hub.PublicationCount);
        }

        GrpcHostile.AssertNoErrorLogged(server, rpc.ToString());
    }
}
