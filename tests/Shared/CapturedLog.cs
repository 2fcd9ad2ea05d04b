using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Broker.Testing;

/// <summary>
/// An <see cref="ILoggerProvider"/> that keeps every entry in memory, at every level, so tests can assert on
/// event names and on what never reaches a log (tickets, cookies).
/// </summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLogEntry> _entries = new();

    /// <summary>The entries so far, oldest first.</summary>
    public IReadOnlyList<CapturedLogEntry> Entries => [.. _entries];

    /// <summary>Whether any entry contains <paramref name="text"/> anywhere (message, values, category, exception).</summary>
    public bool Contains(string text) => _entries.Any(entry => entry.AllText.Contains(text, StringComparison.Ordinal));

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.Select(static pair => new KeyValuePair<string, string?>(pair.Key, pair.Value?.ToString())).ToList()
                : [];
            owner._entries.Enqueue(new CapturedLogEntry(category, logLevel, eventId, formatter(state, exception), values, exception));
        }
    }
}
