namespace Broker.Demo;

/// <summary>The demo's settings, bound from <c>Broker:Demo</c>.</summary>
public sealed class DemoOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker:Demo";

    /// <summary>
    /// Serve <c>POST /demo/login</c>, which binds any name the caller picks as its session's user. For
    /// trying the broker out only: anyone can claim any user id with it. Default false; on in
    /// <c>appsettings.Development.json</c>, which <c>dotnet run</c> uses.
    /// </summary>
    public bool Enabled { get; set; }
}
