using System.Diagnostics;

namespace Broker.InteropTests;

/// <summary>
/// The Debian python with grpcio (only /usr/bin/python3 sees the Debian packages, never a pyenv python on
/// PATH), and the Echo stubs generated once per test run with grpc_tools.protoc into a temp directory.
/// </summary>
public static class Python
{
    public const string Executable = "/usr/bin/python3";

    private static readonly Lazy<Task<string>> Stubs = new(GenerateStubsAsync);

    public static string ScriptPath(string name) => Path.Combine(AppContext.BaseDirectory, "python", name);

    /// <summary>The directory holding interop_pb2.py and interop_pb2_grpc.py.</summary>
    public static Task<string> StubDirectoryAsync() => Stubs.Value;

    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Keep grpcio's own logging and any proxy settings out of the way.
        info.Environment.Remove("http_proxy");
        info.Environment.Remove("https_proxy");
        info.Environment.Remove("HTTP_PROXY");
        info.Environment.Remove("HTTPS_PROXY");
        info.Environment["PYTHONIOENCODING"] = "utf-8";
        return info;
    }

    /// <summary>Runs a script to completion and returns its stdout; fails the test with stderr on a non-zero exit.</summary>
    public static Task<string> RunAsync(TimeSpan timeout, params string[] arguments) => RunAsync(timeout, null, arguments);

    /// <summary>As <see cref="RunAsync(TimeSpan, string[])"/>, with extra environment variables.</summary>
    public static async Task<string> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = StartInfo(arguments);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python {string.Join(' ', arguments)} did not finish in {timeout}: {await stderr}");
        }

        var output = await stdout.WaitAsync(timeout);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr.WaitAsync(timeout)}");
        }

        return output;
    }

    private static async Task<string> GenerateStubsAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "broker-interop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        var protoDir = Path.Combine(AppContext.BaseDirectory, "Protos");
        await RunAsync(TimeSpan.FromSeconds(60), "-m", "grpc_tools.protoc", "-I" + protoDir, "--python_out=" + dir, "--grpc_python_out=" + dir, Path.Combine(protoDir, "interop.proto"));
        return dir;
    }
}
