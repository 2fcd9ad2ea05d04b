// Uses the SDK as docs/sdk.md shows it. It only has to compile: SdkPackageTests builds it against the packed
// Broker.Sdk; running it would need a broker.
using Broker.Sdk;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

if (args.Length == 0)
{
    return;
}

await using var client = new BrokerClient(new BrokerClientOptions
{
    Address = new Uri("http://127.0.0.1:8081"),
    ApiKey = Environment.GetEnvironmentVariable("BROKER_API_KEY"),
    DefaultDeadline = TimeSpan.FromSeconds(5),
});

PublishResult r = await client.PublishAsync("chat:lobby", new { text = "hi" });
await client.PublishAsync("$user:u42", new { text = "Your export is ready" }, "notice");
Console.WriteLine($"{r.Channel} #{r.Offset} ({r.Epoch})");

using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
await foreach (Publication p in client.SubscribeAsync(["chat:lobby"], cancellationToken: stop.Token))
{
    Console.WriteLine($"{p.Channel} #{p.Offset} {p.Event}");
}

static class Registration
{
    public static void AddBroker(IServiceCollection services, IConfiguration configuration)
    {
        services.AddBrokerClient(configuration.GetSection("BrokerClient"));
        services.AddBrokerClient(o => o.Address = new Uri("http://broker:8081"));
    }
}
