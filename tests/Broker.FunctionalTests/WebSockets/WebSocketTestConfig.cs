namespace Broker.FunctionalTests.WebSockets;

/// <summary>The namespaces the WebSocket tests run against.</summary>
public static class WebSocketTestConfig
{
    /// <summary>
    /// chat: history 100, presence, anyone subscribes and publishes. room: the same without presence. news: only users subscribe, nobody
    /// publishes from a browser. tiny: a 4-message DropOldest queue. strict: a 4-message Disconnect queue. big: a queue that holds a whole flood (100,000 messages, 1 GB).
    /// </summary>
    public static Dictionary<string, string?> With(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Broker:Namespaces:chat:HistorySize"] = "100",
            ["Broker:Namespaces:chat:Presence"] = "true",
            ["Broker:Namespaces:chat:Subscribe"] = "anyone",
            ["Broker:Namespaces:chat:Publish"] = "anyone",
            ["Broker:Namespaces:room:HistorySize"] = "100",
            ["Broker:Namespaces:room:Subscribe"] = "anyone",
            ["Broker:Namespaces:room:Publish"] = "anyone",
            ["Broker:Namespaces:news:Subscribe"] = "authenticated",
            ["Broker:Namespaces:news:Publish"] = "none",
            ["Broker:Namespaces:tiny:HistorySize"] = "1000",
            ["Broker:Namespaces:tiny:BufferMessages"] = "4",
            ["Broker:Namespaces:tiny:Subscribe"] = "anyone",
            ["Broker:Namespaces:big:BufferMessages"] = "100000",
            ["Broker:Namespaces:big:BufferBytes"] = "1000000000",
            ["Broker:Namespaces:big:Subscribe"] = "anyone",
            ["Broker:Namespaces:strict:BufferMessages"] = "4",
            ["Broker:Namespaces:strict:Overflow"] = "Disconnect",
            ["Broker:Namespaces:strict:Subscribe"] = "anyone",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }
}
