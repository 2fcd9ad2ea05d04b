using System.Reflection;

namespace Broker.ClusterTests.Infrastructure;

/// <summary>
/// The cluster sample's balancer (samples/Cluster/Balancer: YARP, round robin, active <c>/readyz</c> checks) as
/// run.sh starts it, in front of the given nodes instead of the sample's fixed ports. Killed when disposed.
/// </summary>
public sealed class BalancerProcess : IAsyncDisposable
{
    /// <summary>The balancer's build output for this configuration (the project file writes it into the assembly).</summary>
    public static readonly string BalancerDll = typeof(BalancerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "BalancerDll").Value!;

    private BalancerProcess(ChildProcess process, int port)
    {
        Process = process;
        Address = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>The process.</summary>
    public ChildProcess Process { get; }

    /// <summary>Where it listens.</summary>
    public Uri Address { get; }

    /// <summary><c>ws://…/ws</c> through the balancer.</summary>
    public Uri WebSocketAddress => new UriBuilder(Address) { Scheme = "ws", Path = "/ws" }.Uri;

    /// <summary>
    /// Starts the balancer over exactly three nodes (its configuration names three destinations, which the
    /// environment overrides) and waits until it proxies <c>/readyz</c> with 200.
    /// </summary>
    public static async Task<BalancerProcess> StartAsync(IReadOnlyList<BrokerProcess> nodes)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(nodes.Count, 3);
        int port = FreePort.Next();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Kestrel__Endpoints__Web__Url"] = $"http://127.0.0.1:{port}",
        };
        for (int i = 0; i < nodes.Count; i++)
        {
            environment[$"ReverseProxy__Clusters__brokers__Destinations__node{i + 1}__Address"] = nodes[i].WebAddress.ToString();
        }

        // The working directory is the build output, where appsettings.json (the whole YARP configuration) is.
        var balancer = new BalancerProcess(ChildProcess.Start("balancer", "dotnet", [BalancerDll], environment, Path.GetDirectoryName(BalancerDll)), port);
        try
        {
            using var http = new HttpClient { BaseAddress = balancer.Address, Timeout = TimeSpan.FromSeconds(1) };
            var deadline = DateTime.UtcNow + BrokerProcess.StartTimeout;
            while (true)
            {
                if (balancer.Process.HasExited)
                {
                    throw new InvalidOperationException("the balancer exited:\n" + balancer.Process.Output);
                }

                try
                {
                    using var response = await http.GetAsync("/readyz");
                    if (response.IsSuccessStatusCode)
                    {
                        return balancer;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("the balancer did not proxy /readyz:\n" + balancer.Process.Output);
                }

                await Task.Delay(50);  // polling: the balancer signals readiness only by answering
            }
        }
        catch
        {
            await balancer.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
