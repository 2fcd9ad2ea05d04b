using System.Net;
using System.Net.Sockets;

namespace Broker.LoadTest;

/// <summary>
/// Client connections spread over the loopback addresses 127.0.0.1 … 127.0.0.N (all of 127/8 reaches the loopback
/// interface on Linux): each source address has its own ephemeral ports, about 28,000 per destination with Linux's
/// default range (32768–60999). The soak's thousands of sockets churning for minutes, each leaving a connection in
/// TIME_WAIT, and the load test's 50,000 idle sockets would exhaust the ports of one address. One HTTP client
/// (sessions, tickets) and one WebSocket invoker per address: a ticket bound to an address is used from it.
/// </summary>
internal sealed class LoopbackSources : IDisposable
{
    // IP_BIND_ADDRESS_NO_PORT (linux/in.h): bind the address now, pick the port at connect by the whole 4-tuple, so a
    // bound socket does not reserve an ephemeral port of its own the way bind(port 0) does.
    private const int IpBindAddressNoPort = 24;

    /// <summary>127.0.0.1 to 127.0.0.254: the last byte of the address counts the sources.</summary>
    public const int MaxCount = 254;

    private readonly HttpClient[] _http;
    private readonly HttpMessageInvoker[] _webSockets;

    public LoopbackSources(int count)
    {
        _http = new HttpClient[count];
        _webSockets = new HttpMessageInvoker[count];
        for (int i = 0; i < count; i++)
        {
            var source = new IPAddress([127, 0, 0, (byte)(i + 1)]);
            _http[i] = new HttpClient(Handler(source), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(30) };
            _webSockets[i] = new HttpMessageInvoker(Handler(source), disposeHandler: true);
        }
    }

    public int Count => _http.Length;

    public HttpClient Http(int source) => _http[source];

    public HttpMessageInvoker WebSocket(int source) => _webSockets[source];

    public void Dispose()
    {
        foreach (var client in _http)
        {
            client.Dispose();
        }

        foreach (var invoker in _webSockets)
        {
            invoker.Dispose();
        }
    }

    private static SocketsHttpHandler Handler(IPAddress source) => new()
    {
        // The soak sets and reads the session cookie itself, per browser it plays: one shared jar would mix them.
        UseCookies = false,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(source, context.DnsEndPoint, cancellationToken),
    };

    private static async ValueTask<Stream> ConnectAsync(IPAddress source, DnsEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (!source.Equals(IPAddress.Loopback))
            {
                socket.SetRawSocketOption((int)SocketOptionLevel.IP, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(server, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
