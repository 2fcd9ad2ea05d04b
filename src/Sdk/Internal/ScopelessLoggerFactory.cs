using Microsoft.Extensions.Logging;

namespace Broker.Sdk.Internal;

/// <summary>
/// The caller's <see cref="ILoggerFactory"/> as Grpc.Net.Client sees it: every log event passes through unchanged,
/// but <c>BeginScope</c> opens no scope.
/// </summary>
/// <remarks>
/// Written by hand because Grpc.Net.Client opens a logging scope (its method's name) on every
/// <c>MoveNext</c> of a response stream whenever its logger is enabled at Critical, which any configured logging is.
/// With a provider that keeps scopes (the console's, OpenTelemetry's) that is an <see cref="AsyncLocal{T}"/> push and
/// pop, two execution-context allocations, per delivery of a Subscribe stream and per reply of a PublishStream:
/// a cost only the logging configuration decided, that the benchmarks (no logging) never saw. Grpc.Net.Client's own
/// events keep their category and level; they lose only that scope, which names the method the SDK's own log
/// events name anyway. The factory is the caller's: disposing this wrapper leaves it alone.
/// </remarks>
internal sealed class ScopelessLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new ScopelessLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
    }

    private sealed class ScopelessLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
