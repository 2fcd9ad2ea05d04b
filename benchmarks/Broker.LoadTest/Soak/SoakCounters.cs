using System.Collections.Concurrent;

namespace Broker.LoadTest.Soak;

/// <summary>What the soak's sockets did and saw, counted from every socket's loop at once.</summary>
internal sealed class SoakCounters
{
    public long Connects;
    public long ConnectFailures;
    public long Aborts;
    public long Closes;
    public long ResumesAsked;
    public long Recovered;
    public long NotRecovered;
    public long PublishesSent;

    /// <summary>Publications whose socket ended (abort, close, failure) before their <c>ack</c> came: not owed to anyone.</summary>
    public long Unacknowledged;

    /// <summary>Sockets the broker closed or that failed without the soak asking (a <c>disconnect</c>, a close frame, a reset).</summary>
    public long UnexpectedCloses;

    /// <summary>Publications of a channel the socket had no subscription to, or of another epoch than its subscription's.</summary>
    public long UnexpectedPublications;

    public long PingsAnswered;

    /// <summary><c>error</c> frames by code.</summary>
    public ConcurrentDictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>The first few failures, with what they said, for the report.</summary>
    public ConcurrentQueue<string> Samples { get; } = new();

    public void Error(string code) => Errors.AddOrUpdate(code, 1, static (_, n) => n + 1);

    public void Sample(string text)
    {
        // A handful explain a failure; thousands would only repeat it.
        if (Samples.Count < 10)
        {
            Samples.Enqueue(text);
        }
    }
}
