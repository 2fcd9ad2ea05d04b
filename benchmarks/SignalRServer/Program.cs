using SignalRServer;

// A plain ASP.NET Core SignalR server, as a .NET user would write it for fan-out: one hub, JSON protocol,
// default options. The load test starts it with the URL to bind (127.0.0.1:<port>) as the first argument and,
// for the cluster scenarios, `--redis <StackExchange.Redis configuration>`: then every instance on that Redis
// shares groups through SignalR's Redis backplane (AddStackExchangeRedis, default options).
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseUrls(args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "http://127.0.0.1:5000");
var signalR = builder.Services.AddSignalR();
if (builder.Configuration["redis"] is { Length: > 0 } redis)
{
    signalR.AddStackExchangeRedis(redis);
}

var app = builder.Build();
app.MapHub<FanOutHub>("/hub");
app.MapGet("/healthz", () => "ok");
app.Run();
