using System.Text.Encodings.Web;
using Broker.Stats;
using Microsoft.Extensions.Options;

namespace Broker.Dashboard;

/// <summary>
/// <c>GET /dashboard</c>: the dashboard page, when <see cref="DashboardOptions.Enabled"/>, with the name of
/// the node that served it in <c>&lt;meta name="broker-node"&gt;</c>. In a cluster every node publishes its
/// snapshots to the one shared <c>$broker:stats</c>, so the page needs to know whose snapshots to draw: by
/// default the node that served the page (behind a balancer, the socket may well be on another node).
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>The empty meta tag in <c>dashboard.html</c> that the served page fills in.</summary>
    public const string NodeMeta = """<meta name="broker-node" content="">""";

    /// <summary>Maps <c>/dashboard</c> (404 when the dashboard is off).</summary>
    public static WebApplication MapBrokerDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/dashboard", static async (IOptions<DashboardOptions> options, IWebHostEnvironment environment, NodeIdentity node, CancellationToken cancellationToken) =>
        {
            if (!options.Value.Enabled || environment.WebRootFileProvider.GetFileInfo("dashboard.html") is not { Exists: true, PhysicalPath: { } path })
            {
                return Results.NotFound();
            }

            var html = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            var meta = $"""<meta name="broker-node" content="{HtmlEncoder.Default.Encode(node.Name)}">""";
            return Results.Content(html.Replace(NodeMeta, meta, StringComparison.Ordinal), "text/html; charset=utf-8");
        });
        return app;
    }
}
