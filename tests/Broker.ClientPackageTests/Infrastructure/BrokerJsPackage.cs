using System.Text.Json;

namespace Broker.ClientPackageTests.Infrastructure;

/// <summary>
/// broker-js as a user gets it: <c>npm pack</c> of clients/broker-js, installed with <c>npm install &lt;tgz&gt;</c>
/// into a temporary project outside the repository next to the TypeScript compiler, all offline (the tarball
/// has no dependencies; the compiler is the one test.sh installed). One install serves every test of the class.
/// </summary>
public sealed class BrokerJsPackage : IAsyncLifetime
{
    /// <summary>How long one npm, node or tsc run may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _project = new("broker-js-consumer");

    /// <summary>The temporary project: package.json, node_modules/broker-js, node_modules/typescript.</summary>
    public string ProjectDirectory => _project.Path;

    /// <summary>The installed package's folder (node_modules/broker-js), as the tarball laid it out.</summary>
    public string InstalledPackage => _project.Combine("node_modules", "broker-js");

    /// <summary>The file names inside the packed tarball, from <c>npm pack --json</c>.</summary>
    public IReadOnlyList<string> PackedFiles { get; private set; } = [];

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(RepoPaths.TypeScript, "bin", "tsc")))
        {
            throw new InvalidOperationException($"TypeScript is not installed at {RepoPaths.TypeScript}; ./test.sh installs it (npm ci in clients/broker-js).");
        }

        var pack = (await NpmAsync(RepoPaths.BrokerJsPackage, "pack", "--json", "--pack-destination", ProjectDirectory)).EnsureSuccess();
        using var packed = JsonDocument.Parse(pack.StandardOutput);
        var tarball = packed.RootElement[0];
        PackedFiles = [.. tarball.GetProperty("files").EnumerateArray().Select(static f => f.GetProperty("path").GetString()!)];

        await File.WriteAllTextAsync(_project.Combine("package.json"), """{ "name": "broker-js-consumer", "private": true, "type": "module" }""");
        (await NpmAsync(ProjectDirectory, "install", "--offline", "--no-audit", "--no-fund",
            _project.Combine(tarball.GetProperty("filename").GetString()!), RepoPaths.TypeScript)).EnsureSuccess();
    }

    /// <summary>Copies a file of the test's BrokerJs folder into the temporary project.</summary>
    public string AddFile(string name)
    {
        var target = _project.Combine(name);
        File.Copy(RepoPaths.TestInput("BrokerJs", name), target, overwrite: true);
        return target;
    }

    /// <summary>Runs node in the temporary project.</summary>
    public Task<ProcessResult> NodeAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("node", arguments, ProjectDirectory, Timeout);

    /// <summary>Compiles <paramref name="file"/> of the temporary project with <c>tsc --strict --noEmit</c>, as a browser ES module.</summary>
    public Task<ProcessResult> CompileAsync(string file) =>
        NodeAsync(Path.Combine("node_modules", "typescript", "bin", "tsc"),
            "--strict", "--noEmit", "--pretty", "false",
            "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom",
            file);

    /// <inheritdoc/>
    public Task DisposeAsync()
    {
        _project.Dispose();
        return Task.CompletedTask;
    }

    private static Task<ProcessResult> NpmAsync(string directory, params string[] arguments) =>
        ProcessRunner.RunAsync("npm", arguments, directory, Timeout);
}
