using System.Net.Sockets;

namespace Broker.ClusterTests.Infrastructure;

/// <summary>Loopback ports nobody listens on right now.</summary>
public static class FreePort
{
    /// <summary>A port the system just handed out and took back; a process started at once will get it unless another took it first (a start retries then).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
