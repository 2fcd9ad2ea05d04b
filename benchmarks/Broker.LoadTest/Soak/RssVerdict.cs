namespace Broker.LoadTest.Soak;

/// <summary>
/// The RSS verdict: the slope after the warm-up (MiB/min; null when not computed), whether it was judged (the window
/// was long enough), whether it passed, and the sentence the report prints.
/// </summary>
internal sealed record RssVerdict(double? SlopeMiBPerMinute, bool Judged, bool Flat, string Text);
