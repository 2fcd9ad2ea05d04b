using Microsoft.Extensions.Logging;

namespace Broker.SdkTests.Functional;

/// <summary>
/// The SDK with the caller's logging on: Grpc.Net.Client's events reach the caller's providers, but the SDK's streams
/// open no logging scope per message (see <c>ScopelessLoggerFactory</c>).
/// </summary>
public sealed class LoggingScopeTests
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;

    [Fact]
    public async Task Streams_log_through_the_callers_factory_without_a_scope_per_message()
    {
        await using var server = await SdkTestBroker.StartAsync();
        var provider = new ScopeCountingProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        await using var client = new BrokerClient(new BrokerClientOptions { Address = server.GrpcAddress }, factory);
        await using var publisher = client.CreatePublisher();
        using var stop = new CancellationTokenSource(Timeout);
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = client.SubscribeAsync(["chat:lobby"], null, new SubscribeOptions { OnSubscribed = _ => subscribed.TrySetResult() }, stop.Token).GetAsyncEnumerator();
        var first = subscription.MoveNextAsync();
        await subscribed.Task.WaitAsync(Timeout);

        for (var i = 1; i <= 20; i++)
        {
            await publisher.PublishAsync("chat:lobby", SdkTestBroker.Json(i.ToString())).WaitAsync(Timeout);
        }

        Assert.True(await first.AsTask().WaitAsync(Timeout));
        var got = await SdkTestBroker.TakeAsync(subscription, 19);
        Assert.Equal(20UL, got[^1].Offset);

        // Grpc.Net.Client logged its messages (Trace: one "Reading message" per read) through the caller's factory...
        Assert.Contains(provider.Categories, c => c.StartsWith("Grpc.Net.Client", StringComparison.Ordinal));
        Assert.True(provider.Events >= 20, $"{provider.Events} events logged");
        // ...and opened no scope for them: it opened one per MoveNext and per write before (40 here at least).
        Assert.Equal(0, provider.Scopes);
    }

    private sealed class ScopeCountingProvider : ILoggerProvider
    {
        private int _events;
        private int _scopes;

        public System.Collections.Concurrent.ConcurrentDictionary<string, byte> CategorySet { get; } = new();

        public IEnumerable<string> Categories => CategorySet.Keys;

        public int Events => Volatile.Read(ref _events);

        public int Scopes => Volatile.Read(ref _scopes);

        public ILogger CreateLogger(string categoryName)
        {
            return new Logger(this, categoryName);
        }

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCountingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                if (category.StartsWith("Grpc.Net.Client", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref owner._scopes);
                }

                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (category.StartsWith("Grpc.Net.Client", StringComparison.Ordinal))
                {
                    owner.CategorySet.TryAdd(category, 0);
                    Interlocked.Increment(ref owner._events);
                }
            }
        }
    }
}
