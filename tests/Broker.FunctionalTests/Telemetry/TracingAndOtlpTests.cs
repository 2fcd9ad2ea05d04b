using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Broker.Diagnostics;
using Broker.FunctionalTests.Grpc;
using Broker.V1;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Telemetry;

/// <summary>Traces (the broker's ActivitySource, traceparent continued, long-lived requests detached) and the OTLP export switch.</summary>
public class TracingAndOtlpTests
{
    [Fact]
    public async Task AGrpcPublishContinuesTheCallersTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var parentSpan = ActivitySpanId.CreateRandom();
        var published = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BrokerTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    published.TrySetResult(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var server = await BrokerServer.StartAsync(With());
        using var grpc = new GrpcTestClient(server);
        var options = grpc.Options();
        options.Headers!.Add("traceparent", $"00-{traceId}-{parentSpan}-01");
        await grpc.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, options, new PublishRequest { Channel = "room:t", Data = ByteString.CopyFromUtf8("1") }).ResponseAsync.WaitAsync(BrokerServer.DefaultTimeout);

        var activity = await published.Task.WaitAsync(BrokerServer.DefaultTimeout);
        Assert.Equal("publish", activity.OperationName);
        Assert.Equal(ActivityKind.Producer, activity.Kind);
        Assert.Equal("room:t", activity.GetTagItem("messaging.destination.name"));
        Assert.Equal(traceId, activity.TraceId);
        // Its parent: the caller's span itself, or ASP.NET Core's request span under it when that one is recorded.
        Assert.True(activity.ParentSpanId == parentSpan || activity.Parent?.ParentSpanId == parentSpan, $"parent {activity.ParentSpanId}");
    }

    [Fact]
    public async Task DeliveriesLinkToThePublishPerWrittenBatch()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var delivered = new ConcurrentDictionary<string, Activity>();
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BrokerTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "deliver" && activity.Links.Any(l => l.Context.TraceId == traceId))
                {
                    delivered[(string)activity.GetTagItem("broker.transport")!] = activity;
                    if (delivered.Count == 2)
                    {
                        both.TrySetResult();
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var server = await BrokerServer.StartAsync(With());
        var (socket, _) = await Broker.FunctionalTests.Infrastructure.BrokerClients.ConnectAsync(server, "alice");
        await using var _1 = socket;
        await Broker.FunctionalTests.Infrastructure.BrokerClients.SubscribeAsync(socket, "room:d");
        using var grpc = new GrpcTestClient(server);
        using var subscribe = grpc.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, grpc.Options(), new SubscribeRequest { Channels = { "room:d" } });
        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));

        var options = grpc.Options();
        options.Headers!.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        await grpc.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, options, new PublishRequest { Channel = "room:d", Data = ByteString.CopyFromUtf8("1") }).ResponseAsync.WaitAsync(BrokerServer.DefaultTimeout);
        await socket.SkipToAsync("pub");
        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));

        await both.Task.WaitAsync(BrokerServer.DefaultTimeout);
        Assert.All(delivered.Values, d =>
        {
            Assert.Equal(ActivityKind.Consumer, d.Kind);
            Assert.NotEqual(traceId, d.TraceId);  // its own trace, linked: not a child of a publish long over
            Assert.Equal("room:d", d.GetTagItem("messaging.destination.name"));
        });
    }

    [Fact]
    public async Task AWebSocketsRequestActivityEndsWhenTheSocketIsEstablished()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var stopped = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    stopped.TrySetResult(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var server = await BrokerServer.StartAsync(With());
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        await socket.ConnectAsync(server.WebSocketAddress, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);

        // The socket is open and stays open, yet its HTTP request's span has ended.
        var request = await stopped.Task.WaitAsync(BrokerServer.DefaultTimeout);
        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.True(request.Duration < TimeSpan.FromSeconds(10));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);
    }

    [Fact]
    public async Task MetricsAreExportedOverOtlpWhenTheEndpointIsSet()
    {
        // A small OTLP/HTTP receiver: real Kestrel, POST /v1/metrics (and /v1/traces), protobuf bodies kept.
        var bodies = new ConcurrentQueue<byte[]>();
        var exported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();  // not the broker's appsettings.json (its Kestrel endpoints) from the test output
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var receiver = builder.Build();
        receiver.MapPost("/v1/{signal}", async (HttpContext http, string signal) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            if (signal == "metrics" && http.Request.ContentType == "application/x-protobuf")
            {
                string text = Encoding.UTF8.GetString(body.ToArray());
                // The protobuf carries the meter's scope name and the instrument names as plain UTF-8 strings.
                if (text.Contains(BrokerMetrics.MeterName, StringComparison.Ordinal) && text.Contains("broker.publications", StringComparison.Ordinal))
                {
                    bodies.Enqueue(body.ToArray());
                    exported.TrySetResult();
                }
            }

            return Results.Ok();
        });
        await receiver.StartAsync().WaitAsync(BrokerServer.DefaultTimeout);
        string endpoint = receiver.Urls.First();

        await using var server = await BrokerServer.StartAsync(With(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "200")));
        Assert.Contains(server.Log.Entries, e => e.EventId.Name == "OtlpExporting");
        await exported.Task.WaitAsync(BrokerServer.DefaultTimeout);
        Assert.NotEmpty(bodies);
        await receiver.StopAsync().WaitAsync(BrokerServer.DefaultTimeout);
    }
}
