using System.Text.Json;
using System.Text.RegularExpressions;

namespace Broker.ClientPackageTests;

/// <summary>
/// The broker-js npm package (clients/broker-js): what it ships, and its hand-written declarations checked
/// against the module and against code a user writes.
/// </summary>
public sealed partial class BrokerJsPackageTests(BrokerJsPackage package) : IClassFixture<BrokerJsPackage>
{
    [Fact]
    public void The_tarball_holds_the_module_its_declarations_and_its_manifest()
    {
        Assert.Equal(["README.md", "broker.d.ts", "broker.js", "package.json"], package.PackedFiles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_package_ships_the_very_file_the_broker_serves()
    {
        // One source: the broker links clients/broker-js/broker.js as wwwroot/broker.js, so there is no copy to drift.
        Assert.False(File.Exists(Path.Combine(RepoPaths.Root, "src", "Broker", "wwwroot", "broker.js")), "src/Broker/wwwroot/broker.js came back: serve clients/broker-js/broker.js instead");
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.BrokerJsPackage, "broker.js")), File.ReadAllText(Path.Combine(package.InstalledPackage, "broker.js")));
    }

    [Fact]
    public void The_manifest_is_an_es_module_whose_export_names_its_types()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(package.InstalledPackage, "package.json")));
        var root = manifest.RootElement;
        Assert.Equal("module", root.GetProperty("type").GetString());
        Assert.Equal("MIT", root.GetProperty("license").GetString());
        var dot = root.GetProperty("exports").GetProperty(".");
        Assert.Equal("types", dot.EnumerateObject().First().Name); // `types` must come first to be used
        Assert.Equal("./broker.d.ts", dot.GetProperty("types").GetString());
        Assert.Equal("./broker.js", dot.GetProperty("default").GetString());
    }

    [Fact]
    public void The_npm_package_and_the_nuget_packages_share_one_version()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.BrokerJsPackage, "package.json")));
        Assert.Equal(BuildProps.VersionPrefix, manifest.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Typed_usage_of_the_whole_documented_api_compiles_under_strict()
    {
        var file = package.AddFile("typed-usage.ts");
        var result = await package.CompileAsync(file);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task Known_mistakes_fail_to_compile_each_with_its_expected_error()
    {
        var file = package.AddFile("known-mistakes.ts");
        var expected = new SortedDictionary<int, string>();
        var lines = await File.ReadAllLinesAsync(file).WaitAsync(BrokerJsPackage.Timeout);
        for (var i = 0; i < lines.Length; i++)
        {
            if (ExpectMarker().Match(lines[i]) is { Success: true } marker) expected[i + 1] = marker.Groups[1].Value;
        }

        Assert.True(expected.Count >= 20, "known-mistakes.ts lost its `// expect TSnnnn` markers");

        var result = await package.CompileAsync(file);
        Assert.NotEqual(0, result.ExitCode);
        var actual = new SortedDictionary<int, string>();
        foreach (Match error in CompilerError().Matches(result.StandardOutput))
        {
            actual.TryAdd(int.Parse(error.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), error.Groups[2].Value);
        }

        // Every marked line fails with its error, and nothing else fails: the file fails for the right reasons.
        Assert.True(
            expected.SequenceEqual(actual),
            $"expected (line: code) {Describe(expected)}\nactual {Describe(actual)}\n{result.Output}");
    }

    [Fact]
    public async Task Every_member_the_module_exports_is_declared_and_every_declared_one_exists()
    {
        package.AddFile("runtime-members.mjs");
        package.AddFile("declared-members.mjs");
        var runtime = JsonDocument.Parse((await package.NodeAsync("runtime-members.mjs")).EnsureSuccess().StandardOutput).RootElement;
        var declared = JsonDocument.Parse((await package.NodeAsync("declared-members.mjs", Path.Combine(package.InstalledPackage, "broker.d.ts"))).EnsureSuccess().StandardOutput).RootElement;

        Assert.Equal(Names(runtime.GetProperty("exports")), Names(declared.GetProperty("exports")));
        Assert.Contains("BrokerClient", Names(runtime.GetProperty("exports")));

        foreach (var cls in runtime.GetProperty("classes").EnumerateObject())
        {
            var actual = Names(cls.Value);
            Assert.True(declared.GetProperty("classes").TryGetProperty(cls.Name, out var members), $"class {cls.Name} is not declared");
            var all = members.EnumerateArray().Select(static m => m.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal);
            var own = members.EnumerateArray().Where(static m => m.GetProperty("own").GetBoolean()).Select(static m => m.GetProperty("name").GetString()!);

            var undeclared = actual.Where(name => !all.Contains(name)).ToList();
            var missing = own.Where(name => !actual.Contains(name)).ToList();
            Assert.True(undeclared.Count == 0, $"{cls.Name} has members broker.d.ts does not declare: {string.Join(", ", undeclared)}");
            Assert.True(missing.Count == 0, $"broker.d.ts declares {cls.Name} members broker.js does not have: {string.Join(", ", missing)}");
        }
    }

    private static SortedSet<string> Names(JsonElement array) =>
        new(array.EnumerateArray().Select(static e => e.GetString()!), StringComparer.Ordinal);

    private static string Describe(SortedDictionary<int, string> errors) => string.Join(", ", errors.Select(static e => $"{e.Key}: {e.Value}"));

    [GeneratedRegex(@"// expect (TS\d+)\s*$")]
    private static partial Regex ExpectMarker();

    [GeneratedRegex(@"known-mistakes\.ts\((\d+),\d+\): error (TS\d+)")]
    private static partial Regex CompilerError();
}
