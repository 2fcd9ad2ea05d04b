namespace Broker.LoadTest;

/// <summary>The last lines a child process wrote (standard output and error), for the message when it fails.</summary>
internal sealed class OutputTail
{
    // Enough to show a startup failure or a stack trace's top; a run's failure text keeps its last 1,000 characters.
    private const int Lines = 50;
    private readonly Queue<string> _lines = new();

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
