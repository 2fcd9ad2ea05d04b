using System.Net.Sockets;

namespace Broker.SdkTests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of the broker's gRPC port, so a test can cut the SDK's connection (as a network
/// failure or a crashed load balancer would), hold traffic (a stalled network), or point it at another broker
/// (a restart on a new port). Bytes are forwarded untouched, so HTTP/2 runs end to end.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<(Socket Client, Socket Upstream)> _pairs = [];
    private readonly Task _accepting;
    // One gate per direction: a held gate keeps the bytes read so far until it opens.
    private TaskCompletionSource _toUpstream = NewGate(open: true);
    private TaskCompletionSource _toClient = NewGate(open: true);
    private int _upstreamPort;

    public TcpProxy(Uri upstream)
    {
        _upstreamPort = upstream.Port;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's address: give it to the SDK instead of the broker's.</summary>
    public Uri Address { get; }

    /// <summary>Connections accepted so far (a reconnect adds one).</summary>
    public int Accepted { get; private set; }

    /// <summary>New connections go to this broker from now on.</summary>
    public void Retarget(Uri upstream) => Volatile.Write(ref _upstreamPort, upstream.Port);

    /// <summary>Resets every open connection (RST both ways); new connections are still accepted.</summary>
    public void CutAll()
    {
        (Socket, Socket)[] pairs;
        lock (_lock)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }

        foreach (var (client, upstream) in pairs)
        {
            Abort(client);
            Abort(upstream);
        }
    }

    /// <summary>Holds every byte in both directions until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        lock (_lock)
        {
            _toUpstream = Close(_toUpstream);
            _toClient = Close(_toClient);
        }
    }

    /// <summary>Holds the broker's bytes only (its replies), until <see cref="Resume"/>: requests still reach it.</summary>
    public void PauseDownstream()
    {
        lock (_lock)
        {
            _toClient = Close(_toClient);
        }
    }

    /// <summary>Lets held bytes through.</summary>
    public void Resume()
    {
        lock (_lock)
        {
            _toUpstream.TrySetResult();
            _toClient.TrySetResult();
        }
    }

    private static TaskCompletionSource Close(TaskCompletionSource gate) => gate.Task.IsCompleted ? NewGate(open: false) : gate;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        Resume();
        CutAll();
        try
        {
            await _accepting.WaitAsync(BrokerServer.DefaultTimeout);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Accepted++;
            var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            try
            {
                await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Volatile.Read(ref _upstreamPort)), _stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                // Nothing listens there (a broker between lives): the client sees its connection fail.
                Abort(client);
                upstream.Dispose();
                continue;
            }

            lock (_lock)
            {
                _pairs.Add((client, upstream));
            }

            _ = PumpAsync(client, upstream, toUpstream: true);
            _ = PumpAsync(upstream, client, toUpstream: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool toUpstream)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                Task gate;
                lock (_lock)
                {
                    gate = toUpstream ? _toUpstream.Task : _toClient.Task;
                }

                await gate.WaitAsync(_stopping.Token);
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Abort(from);
            Abort(to);
        }
    }

    private static void Abort(Socket socket)
    {
        try
        {
            // Linger 0: close sends RST, as a dropped connection does, instead of a graceful FIN.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private static TaskCompletionSource NewGate(bool open)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            gate.SetResult();
        }

        return gate;
    }
}
