namespace Broker.BrowserTests.Infrastructure;

/// <summary>Paths inside the repository, found from the test output directory.</summary>
public static class RepoPaths
{
    /// <summary>The directory holding Broker.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>src/Broker: the broker's content root.</summary>
    public static string BrokerProject => Path.Combine(Root, "src", "Broker");

    /// <summary>src/Broker/wwwroot: broker.js and the demo page, served as they are in the repository.</summary>
    public static string WebRoot => Path.Combine(BrokerProject, "wwwroot");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
    }
}
