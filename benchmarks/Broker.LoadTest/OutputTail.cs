namespace Broker.LoadTest;

/// <summary>
/// The last lines a child process wrote (standard output and error), for the message when it fails; and every entry
/// it logged at Error or Critical (the console logger starts them with <c>fail:</c> and <c>crit:</c>), however early.
/// </summary>
internal sealed class OutputTail
{
    // Enough to show a startup failure or a stack trace's top; a run's failure text keeps its last 1,000 characters.
    private const int Lines = 50;

    // An entry's header, its message and the top of its exception say what it was; a hundred say it happened a lot.
    private const int ErrorEntryLines = 4;
    private const int MaxErrorEntries = 100;

    private readonly Queue<string> _lines = new();
    private readonly List<string> _errors = [];
    private int _errorLinesLeft;

    /// <summary>Remembers <paramref name="line"/> (null, the stream's end, is ignored), dropping the oldest beyond the limit.</summary>
    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > Lines)
            {
                _lines.Dequeue();
            }

            if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal))
            {
                if (_errors.Count < MaxErrorEntries)
                {
                    _errors.Add(line);
                    _errorLinesLeft = ErrorEntryLines - 1;
                }
            }
            else if (_errorLinesLeft > 0 && line.StartsWith(' '))
            {
                // The entry's indented continuation lines.
                _errors[^1] += " | " + line.Trim();
                _errorLinesLeft--;
            }
            else
            {
                _errorLinesLeft = 0;
            }
        }
    }

    /// <summary>The Error and Critical entries so far, each on one line (at most 100).</summary>
    public IReadOnlyList<string> Errors()
    {
        lock (_lines)
        {
            return [.. _errors];
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join('\n', _lines);
        }
    }
}
