// The cluster sample's balancer: YARP, configured entirely in appsettings.json (ReverseProxy section); run.sh
// passes the nodes' addresses as environment variables. YARP proxies WebSocket upgrades as they come, so
// nothing here is specific to the broker.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapReverseProxy();
app.Run();
