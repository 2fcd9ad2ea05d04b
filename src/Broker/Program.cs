// Composition only: what the broker is made of lives in AddBroker, what it serves in MapBroker.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddBroker(builder.Configuration);

var app = builder.Build();
app.MapBroker();
app.Run();

/// <summary>The broker's entry point; public so functional tests can start it in-process.</summary>
public partial class Program;
