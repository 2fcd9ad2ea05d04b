using System.Text.RegularExpressions;

namespace Broker.ClientPackageTests.Infrastructure;

/// <summary>One table row of docs/configuration.md: the key (or SDK option name) and the cells a test checks.</summary>
public sealed record ConfigurationRow(string Key, string Default, string? ConfigurationKey, string Environment);

/// <summary>
/// The tables of docs/configuration.md. Broker tables have the columns key | type | default | range |
/// environment variable | what; the SDK's table (under the heading naming <c>BrokerClientOptions</c>) has
/// option | type | default | range | configuration key | environment variable | what.
/// </summary>
public sealed partial class ConfigurationDoc
{
    private ConfigurationDoc(List<ConfigurationRow> rows, List<ConfigurationRow> sdkRows)
    {
        Rows = rows;
        SdkRows = sdkRows;
    }

    /// <summary>Rows of the broker's tables, keyed by their full configuration key.</summary>
    public IReadOnlyList<ConfigurationRow> Rows { get; }

    /// <summary>Rows of the SDK's table, keyed by <c>BrokerClientOptions</c> property name.</summary>
    public IReadOnlyList<ConfigurationRow> SdkRows { get; }

    /// <summary>Reads the page.</summary>
    public static ConfigurationDoc Load(string path)
    {
        var rows = new List<ConfigurationRow>();
        var sdkRows = new List<ConfigurationRow>();
        var inSdk = false;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith('#'))
            {
                inSdk = line.Contains("BrokerClientOptions", StringComparison.Ordinal);
                continue;
            }

            if (!line.StartsWith('|')) continue;
            var cells = line.Trim().Trim('|').Split('|').Select(static c => c.Trim()).ToArray();
            var key = FirstCode(cells[0]);
            if (key.Length == 0 || cells[0] != $"`{key}`") continue; // the header, the separator, or prose
            if (inSdk)
            {
                var configurationKey = cells[4].StartsWith('`') ? FirstCode(cells[4]) : cells[4];
                sdkRows.Add(new ConfigurationRow(key, cells[2], configurationKey, FirstCode(cells[5])));
            }
            else if (key.StartsWith("Broker:", StringComparison.Ordinal))
            {
                rows.Add(new ConfigurationRow(key, cells[2], null, FirstCode(cells[4])));
            }
        }

        return new ConfigurationDoc(rows, sdkRows);
    }

    /// <summary>The text of the first <c>`code`</c> span in a cell, or empty.</summary>
    public static string FirstCode(string cell) => Code().Match(cell) is { Success: true } m ? m.Groups[1].Value : "";

    [GeneratedRegex("`([^`]*)`")]
    private static partial Regex Code();
}
