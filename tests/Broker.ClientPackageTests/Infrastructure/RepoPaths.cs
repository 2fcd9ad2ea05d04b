namespace Broker.ClientPackageTests.Infrastructure;

/// <summary>Paths inside the repository and the test output, found from the test output directory.</summary>
public static class RepoPaths
{
    /// <summary>The directory holding Broker.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>clients/broker-js: the npm package, whose broker.js the broker serves at <c>/broker.js</c>.</summary>
    public static string BrokerJsPackage => Path.Combine(Root, "clients", "broker-js");

    /// <summary>The TypeScript compiler that test.sh installs (the package's pinned dev dependency).</summary>
    public static string TypeScript => Path.Combine(BrokerJsPackage, "node_modules", "typescript");

    /// <summary>A file the test project copies to its output (<c>BrokerJs/…</c>, <c>SdkConsumer/…</c>).</summary>
    public static string TestInput(params string[] parts) => Path.Combine([AppContext.BaseDirectory, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
    }
}
