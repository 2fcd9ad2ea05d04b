using System.Xml.Linq;

namespace Broker.ClientPackageTests.Infrastructure;

/// <summary>Properties of the repository's Directory.Build.props, read as the file says them.</summary>
public static class BuildProps
{
    /// <summary>The one version of every package the repository ships (<c>VersionPrefix</c>).</summary>
    public static string VersionPrefix { get; } = Read("VersionPrefix");

    private static string Read(string property) =>
        XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Build.props")).Descendants(property).Single().Value.Trim();
}
