using Broker.Sdk;
using ChatBackend;

// Configuration: --address/--api-key, else BROKER_ADDRESS/BROKER_API_KEY, else the broker's `dotnet run` default.
var address = Arg("--address") ?? Environment.GetEnvironmentVariable("BROKER_ADDRESS") ?? "http://127.0.0.1:8081";
var apiKey = Arg("--api-key") ?? Environment.GetEnvironmentVariable("BROKER_API_KEY");

await using var client = new BrokerClient(new BrokerClientOptions { Address = new Uri(address), ApiKey = apiKey });
using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stopping.Cancel();

var handler = new ChatHandler(client);
Console.WriteLine($"chat backend: handling '{ChatHandler.PostEvent}' from {address} (Ctrl+C to stop)");
try
{
    await handler.RunAsync(
        new HandlerOptions
        {
            OnRegistered = id => Console.WriteLine($"registered as {id}"),
            OnReconnecting = (error, delay) => Console.WriteLine($"stream lost ({error.Message}); reconnecting in {delay.TotalMilliseconds:0} ms"),
            OnHandlerError = (context, error) => Console.Error.WriteLine($"handler failed on {context.Event}: {error}"),
        },
        stopping.Token);
}
catch (BrokerException ex)
{
    Console.Error.WriteLine($"the broker refused the handler: {ex.Message}");
    return 1;
}

return 0;

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
