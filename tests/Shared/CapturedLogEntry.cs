using Microsoft.Extensions.Logging;

namespace Broker.Testing;

/// <summary>One log entry as a test sees it: the formatted message plus every structured value as text.</summary>
public sealed record CapturedLogEntry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, string?>> State, Exception? Exception)
{
    /// <summary>Everything this entry would put in a log sink, as one string, for "never appears" assertions.</summary>
    public string AllText => string.Join('\n', new[] { Category, Message, Exception?.ToString() }
        .Concat(State.Select(static pair => $"{pair.Key}={pair.Value}")));
}
