using System.IO.Compression;
using System.Xml.Linq;

namespace Broker.ClientPackageTests;

/// <summary>
/// Broker.Sdk as a user installs it: <c>dotnet pack</c> of src/Sdk and of every project it references, into a
/// folder outside the repository, then an app outside the repository (SdkConsumer) restored from that folder
/// plus the machine's NuGet sources, and built.
/// </summary>
public sealed class SdkPackageTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_packed_sdk_installs_into_an_app_outside_the_repository_and_builds()
    {
        using var work = new TempDirectory("sdk-package");
        var feed = work.Combine("feed");
        var packed = new List<string>();
        foreach (var project in ProjectAndItsReferences(Path.Combine(RepoPaths.Root, "src", "Sdk", "Broker.Sdk.csproj")))
        {
            // Its own artifacts folder: the pack never writes into the repository's bin/ and obj/.
            (await DotnetAsync(RepoPaths.Root, "pack", project, "-c", "Release", "-o", feed, "--artifacts-path", work.Combine("artifacts"))).EnsureSuccess();
            packed.Add(Path.GetFileNameWithoutExtension(project));
        }

        Assert.Contains("Broker.Sdk", packed);
        var sdk = Path.Combine(feed, $"Broker.Sdk.{BuildProps.VersionPrefix}.nupkg");
        AssertPackageMetadata(sdk);
        foreach (var dependency in packed)
        {
            Assert.True(File.Exists(Path.Combine(feed, $"{dependency}.{BuildProps.VersionPrefix}.nupkg")), $"{dependency} did not pack");
        }

        var app = work.Combine("app");
        Directory.CreateDirectory(app);
        foreach (var file in new[] { "SdkConsumer.csproj", "Program.cs" })
        {
            File.Copy(RepoPaths.TestInput("SdkConsumer", file), Path.Combine(app, file));
        }

        // Stop MSBuild's upward search for Directory.*.props here, whatever the temp folder's parents hold.
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            await File.WriteAllTextAsync(work.Combine(file), "<Project />");
        }

        // The package folder plus the machine's own sources (user-level NuGet.Config, not cleared). Restored packages
        // go to a fresh folder, so a Broker.Sdk of the same version restored before can never stand in for this
        // one; the machine's package folder is a fallback, so nothing it already holds is downloaded again.
        var machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        await File.WriteAllTextAsync(work.Combine("nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{work.Combine("packages")}" />
              </config>
              <packageSources>
                <add key="broker-packages" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{machinePackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);

        var build = await DotnetAsync(app, "build", "-c", "Release", $"-p:BrokerSdkVersion={BuildProps.VersionPrefix}");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.True(File.Exists(Path.Combine(app, "bin", "Release", "net10.0", "Broker.Sdk.dll")), "the app was not built against the package:\n" + build.Output);
    }

    private static void AssertPackageMetadata(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var names = zip.Entries.Select(static e => e.FullName).ToList();
        Assert.Contains("README.md", names);
        Assert.Contains("lib/net10.0/Broker.Sdk.dll", names);
        Assert.Contains("lib/net10.0/Broker.Sdk.xml", names); // the XML docs, for IntelliSense

        using var nuspec = zip.Entries.Single(static e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().Single(static e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
        Assert.Equal("Broker.Sdk", Field("id"));
        Assert.Equal(BuildProps.VersionPrefix, Field("version"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("README.md", Field("readme"));
        Assert.Contains("gRPC", Field("description"), StringComparison.Ordinal);
        Assert.Contains("broker", Field("tags").Split(' '));
    }

    /// <summary>The project and, depth first, every project it references: each one a package the app needs.</summary>
    private static List<string> ProjectAndItsReferences(string project)
    {
        var order = new List<string>();
        void Visit(string path)
        {
            path = Path.GetFullPath(path);
            if (order.Contains(path)) return;
            foreach (var reference in XDocument.Load(path).Descendants("ProjectReference"))
            {
                Visit(Path.Combine(Path.GetDirectoryName(path)!, reference.Attribute("Include")!.Value));
            }

            order.Add(path);
        }

        Visit(project);
        return order;
    }

    private static Task<ProcessResult> DotnetAsync(string directory, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", arguments, directory, StepTimeout, new Dictionary<string, string>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        });
}
