using System.Text.Json;

namespace Broker.InteropTests.Infrastructure;

/// <summary>
/// python/client.py, the grpcio client, run once per test case against <see cref="KestrelEchoServer"/>: it prints
/// what it saw as one JSON object, which the test reads. Over h2c (<see cref="RunAsync"/>) or TLS (<see cref="RunOverTlsAsync"/>).
/// </summary>
public static class PythonClient
{
    /// <summary>How long one run (stub generation, the script, the test's waits on the server) may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="testCase"/> against <paramref name="target"/> (host:port) and returns the JSON it printed.</summary>
    /// <param name="target">host:port, as gRPC targets are written.</param>
    /// <param name="testCase">The case client.py runs (<c>unary</c>, <c>bidi</c>, <c>error</c> …).</param>
    /// <param name="callId">An id the echo service records the call's cancellation under; empty for none.</param>
    /// <param name="environment">Extra environment variables for the script.</param>
    public static async Task<JsonElement> RunAsync(string target, string testCase, string callId = "", IReadOnlyDictionary<string, string>? environment = null)
    {
        var stubs = await Python.StubDirectoryAsync().WaitAsync(Timeout);
        var output = await Python.RunAsync(Timeout, environment, Python.ScriptPath("client.py"), stubs, target, testCase, callId);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    /// <summary>Runs <paramref name="testCase"/> against the server's TLS endpoint, trusting exactly its certificate.</summary>
    public static async Task<JsonElement> RunOverTlsAsync(KestrelEchoServer server, string testCase)
    {
        var pem = Path.Combine(await Python.StubDirectoryAsync().WaitAsync(Timeout), $"root-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(pem, server.Certificate.ExportCertificatePem()).WaitAsync(Timeout);
        return await RunAsync(server.TlsAddress.Authority, testCase, environment: new Dictionary<string, string> { ["INTEROP_ROOT_CERT"] = pem });
    }
}
