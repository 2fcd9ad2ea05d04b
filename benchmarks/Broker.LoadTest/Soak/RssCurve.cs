using System.Globalization;
using System.Text;

namespace Broker.LoadTest.Soak;

/// <summary>
/// The broker's resident memory over the soak, with its <c>/stats</c> connections and subscriptions at each sample,
/// and the verdict on "flat": the least-squares slope of RSS over the samples of the churn's last minutes (after the
/// warm-up), in MiB per minute, at most a bound.
/// </summary>
internal sealed class RssCurve
{
    private const double MiB = 1024 * 1024;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly List<RssSample> _samples = [];

    public IReadOnlyList<RssSample> Samples => _samples;

    public void Add(RssSample sample)
    {
        lock (_samples)
        {
            _samples.Add(sample);
        }
    }

    /// <summary>
    /// The slope of RSS, MiB per minute, fitted by least squares to the samples taken from <paramref name="from"/> to
    /// <paramref name="to"/> (seconds into the soak); null with fewer than 3 samples there.
    /// </summary>
    public double? SlopeMiBPerMinute(double from, double to)
    {
        double n = 0, sumT = 0, sumR = 0, sumTT = 0, sumTR = 0;
        foreach (var s in _samples)
        {
            if (s.Seconds < from || s.Seconds > to)
            {
                continue;
            }

            double t = s.Seconds / 60;
            double r = s.RssBytes / MiB;
            n++;
            sumT += t;
            sumR += r;
            sumTT += t * t;
            sumTR += t * r;
        }

        double denominator = (n * sumTT) - (sumT * sumT);
        return n < 3 || denominator <= 0 ? null : ((n * sumTR) - (sumT * sumR)) / denominator;
    }

    /// <summary>
    /// Judges the curve: flat when the slope over the last <paramref name="window"/> seconds before <paramref name="end"/>
    /// is at most <paramref name="maxSlope"/> MiB/min. Not judged when that window would reach into the first
    /// <paramref name="warmup"/> seconds (a short run's RSS is still the warm-up's).
    /// </summary>
    public RssVerdict Judge(double warmup, double end, double window, double maxSlope)
    {
        double from = end - window;
        if (from < warmup)
        {
            return new RssVerdict(null, Judged: false, Flat: true, string.Create(Invariant,
                $"not judged: {Math.Max(0, end - warmup):0} s of churn after the {warmup:0} s warm-up, under the {window:0} s window"));
        }

        var slope = SlopeMiBPerMinute(from, end);
        if (slope is not { } value)
        {
            return new RssVerdict(null, Judged: true, Flat: false, "too few samples in the window");
        }

        bool flat = value <= maxSlope;
        return new RssVerdict(value, Judged: true, flat, string.Create(Invariant,
            $"{(flat ? "flat" : "NOT flat")}: {value:+0.00;-0.00} MiB/min from {from:0} s to {end:0} s (bound {maxSlope:0.##} MiB/min)"));
    }

    public string Csv()
    {
        var csv = new StringBuilder("seconds,rss_mib,connections,subscriptions,publications,deliveries\n");
        foreach (var s in _samples)
        {
            csv.Append(Invariant, $"{s.Seconds:0.0},{s.RssBytes / MiB:0.00},{s.Connections},{s.Subscriptions},{s.Publications},{s.Deliveries}\n");
        }

        return csv.ToString();
    }

    /// <summary>RSS (MiB, left axis) and connections (right axis) against time, the warm-up and the churn's end marked.</summary>
    public string Svg(double warmup, double churnEnd, string title)
    {
        const int width = 720, height = 320, left = 60, right = 60, top = 36, bottom = 40;
        double plotW = width - left - right, plotH = height - top - bottom;
        double maxT = Math.Max(1, _samples.Count == 0 ? 1 : _samples[^1].Seconds);
        double maxR = Math.Max(1, _samples.Count == 0 ? 1 : _samples.Max(static s => s.RssBytes) / MiB) * 1.1;
        double maxC = Math.Max(1, _samples.Count == 0 ? 1 : _samples.Max(static s => s.Connections)) * 1.1;
        double X(double t) => left + (t / maxT * plotW);
        double YR(double r) => top + plotH - (r / maxR * plotH);
        double YC(double c) => top + plotH - (c / maxC * plotH);

        var svg = new StringBuilder();
        svg.Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(Invariant, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(Invariant, $"<text x=\"{left}\" y=\"20\" font-size=\"13\">{Escape(title)}</text>\n");
        svg.Append(Invariant, $"<rect x=\"{left}\" y=\"{top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#999\"/>\n");
        foreach (var (at, label) in new[] { (warmup, "warm-up"), (churnEnd, "churn ends") })
        {
            if (at > 0 && at <= maxT)
            {
                svg.Append(Invariant, $"<line x1=\"{X(at):0.#}\" y1=\"{top}\" x2=\"{X(at):0.#}\" y2=\"{top + plotH}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>");
                svg.Append(Invariant, $"<text x=\"{X(at) + 3:0.#}\" y=\"{top + 12}\" fill=\"#777\">{label}</text>\n");
            }
        }

        for (int i = 0; i <= 4; i++)
        {
            double r = maxR * i / 4, c = maxC * i / 4, t = maxT * i / 4;
            svg.Append(Invariant, $"<text x=\"{left - 6}\" y=\"{YR(r) + 4:0.#}\" text-anchor=\"end\" fill=\"#c0392b\">{r:0}</text>");
            svg.Append(Invariant, $"<text x=\"{left + plotW + 6}\" y=\"{YC(c) + 4:0.#}\" fill=\"#2471a3\">{c:0}</text>");
            svg.Append(Invariant, $"<text x=\"{X(t):0.#}\" y=\"{top + plotH + 16}\" text-anchor=\"middle\">{t:0} s</text>\n");
        }

        svg.Append(Invariant, $"<text x=\"{left}\" y=\"{height - 6}\" fill=\"#c0392b\">RSS, MiB</text>");
        svg.Append(Invariant, $"<text x=\"{width - right}\" y=\"{height - 6}\" text-anchor=\"end\" fill=\"#2471a3\">connections (/stats)</text>\n");
        svg.Append("<polyline fill=\"none\" stroke=\"#2471a3\" stroke-width=\"1.2\" points=\"");
        foreach (var s in _samples)
        {
            svg.Append(Invariant, $"{X(s.Seconds):0.#},{YC(s.Connections):0.#} ");
        }

        svg.Append("\"/>\n<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"");
        foreach (var s in _samples)
        {
            svg.Append(Invariant, $"{X(s.Seconds):0.#},{YR(s.RssBytes / MiB):0.#} ");
        }

        svg.Append("\"/>\n</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
