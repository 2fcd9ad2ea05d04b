using System.Text.Json;

namespace Broker.LoadTest.Soak;

/// <summary>The <c>/stats</c> figures the soak watches (PROTOCOL.md, "HTTP endpoints"; README, "Health, readiness, stats").</summary>
internal readonly record struct BrokerStats(long Connections, long Subscriptions, long Publications, long Deliveries)
{
    public static async Task<BrokerStats> ReadAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri("/stats", UriKind.Relative), cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
        var root = json.RootElement;
        return new BrokerStats(
            root.GetProperty("connections").GetProperty("total").GetInt64(),
            root.GetProperty("subscriptions").GetInt64(),
            root.GetProperty("publications").GetInt64(),
            root.GetProperty("deliveries").GetInt64());
    }
}
