using System.Collections;
using System.Globalization;
using System.Reflection;

namespace Broker.ClientPackageTests;

/// <summary>
/// docs/configuration.md against the options classes, which stay the one source of truth: every public
/// settable property has its row, every row names a real property, and the defaults and environment-variable
/// spellings agree. The types are found by simple name in the broker's and the SDK's assemblies, never by
/// namespace, so moving an options class to another folder or namespace does not break this test.
/// </summary>
public sealed class ConfigurationDocTests
{
    /// <summary>Where each options type binds from (its configuration section), by type name.</summary>
    private static readonly (string Section, string TypeName)[] BoundOptions =
    [
        ("Broker", "BrokerOptions"),
        ("Broker", "BrokerSessionOptions"),
        ("Broker:WebSocket", "WebSocketTransportOptions"),
        ("Broker:Grpc", "GrpcServiceOptions"),
        ("Broker:Handlers", "HandlerOptions"),
        ("Broker:Demo", "DemoOptions"),
        ("Broker:Dashboard", "DashboardOptions"),
        ("Broker", "DrainOptions"),
        ("Broker", "NodeOptions"),
        ("Broker:Redis", "RedisEngineOptions"),
    ];

    /// <summary>Options types of the broker that configuration does not bind (set in code), with the reason.</summary>
    private static readonly Dictionary<string, string> CodeOnlyOptions = new(StringComparer.Ordinal)
    {
        ["RedisSessionsOptions"] = "the sessions read Broker:Redis:Configuration, Prefix and OperationTimeout, which RedisEngineOptions binds and the page lists",
    };

    /// <summary>The placeholder the page writes for a dictionary key (<c>Broker:Namespaces:&lt;namespace&gt;:…</c>).</summary>
    private const string DictionaryKey = "<namespace>";

    // By name: the broker's types move between namespaces, its assembly does not.
    private static readonly Assembly BrokerAssembly = Assembly.Load("Broker");

    private static readonly Assembly SdkAssembly = typeof(Broker.Sdk.BrokerClient).Assembly;

    private static readonly ConfigurationDoc Doc = ConfigurationDoc.Load(Path.Combine(RepoPaths.Root, "docs", "configuration.md"));

    [Fact]
    public void Every_options_class_of_the_broker_is_either_bound_here_or_declared_code_only()
    {
        var reachable = BoundOptions.SelectMany(static b => OptionsTypes(Resolve(BrokerAssembly, b.TypeName))).Select(static t => t.Name).ToHashSet(StringComparer.Ordinal);
        var unlisted = BrokerAssembly.GetExportedTypes()
            .Where(static t => t.IsClass && t.Name.EndsWith("Options", StringComparison.Ordinal))
            .Where(t => !reachable.Contains(t.Name) && !CodeOnlyOptions.ContainsKey(t.Name))
            .Select(static t => t.FullName)
            .ToList();
        Assert.True(unlisted.Count == 0, $"options classes neither bound in ConfigurationDocTests.BoundOptions nor listed as code only: {string.Join(", ", unlisted)}");
    }

    [Fact]
    public void Every_broker_setting_is_on_the_page_and_every_key_on_the_page_is_a_setting()
    {
        var expected = BoundOptions.SelectMany(static b => Settings(b.Section, Resolve(BrokerAssembly, b.TypeName))).ToDictionary(static s => s.Key, StringComparer.Ordinal);
        var documented = Doc.Rows.Where(static r => r.Key.StartsWith("Broker:", StringComparison.Ordinal)).ToDictionary(static r => r.Key, StringComparer.Ordinal);

        var missing = expected.Keys.Except(documented.Keys).Order(StringComparer.Ordinal).ToList();
        var unknown = documented.Keys.Except(expected.Keys).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"settings missing from docs/configuration.md: {string.Join(", ", missing)}");
        Assert.True(unknown.Count == 0, $"docs/configuration.md names keys no options class has: {string.Join(", ", unknown)}");

        foreach (var (key, setting) in expected)
        {
            var row = documented[key];
            AssertDefault(key, setting, row.Default);
            var env = key.Replace(":", "__", StringComparison.Ordinal) + (IsList(setting.Property.PropertyType) ? "__0" : "");
            Assert.True(row.Environment == env, $"{key}: the environment variable is {env}, the page says {row.Environment}");
        }
    }

    [Fact]
    public void Every_sdk_client_option_is_on_the_page_with_its_default_and_key()
    {
        var type = Resolve(SdkAssembly, "BrokerClientOptions");
        var instance = Activator.CreateInstance(type)!;
        var properties = Settable(type).ToDictionary(static p => p.Name, StringComparer.Ordinal);
        var rows = Doc.SdkRows.ToDictionary(static r => r.Key, StringComparer.Ordinal);

        Assert.Equal(properties.Keys.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, property) in properties)
        {
            var row = rows[name];
            if (IsBindable(property.PropertyType))
            {
                AssertDefault(name, new Setting("BrokerClient:" + name, property, instance), row.Default);
                Assert.Equal("BrokerClient:" + name, row.ConfigurationKey);
                Assert.Equal("BrokerClient__" + name, row.Environment);
            }
            else
            {
                Assert.True(row.ConfigurationKey == "code only", $"{name} cannot be bound from configuration: its row must say `code only`");
            }
        }
    }

    /// <summary>A bindable leaf: its full key, the property, and an instance holding its default.</summary>
    private sealed record Setting(string Key, PropertyInfo Property, object Owner)
    {
        public object? Default => Property.GetValue(Owner);
    }

    /// <summary>The leaves of an options type: scalars and lists; nested options and dictionaries of options recurse.</summary>
    private static IEnumerable<Setting> Settings(string prefix, Type type)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var property in Settable(type))
        {
            var key = prefix + ":" + property.Name;
            var t = property.PropertyType;
            if (IsBindable(t) || IsList(t))
            {
                yield return new Setting(key, property, instance);
            }
            else if (DictionaryValue(t) is { } value)
            {
                foreach (var leaf in Settings(key + ":" + DictionaryKey, value)) yield return leaf;
            }
            else
            {
                foreach (var leaf in Settings(key, t)) yield return leaf;
            }
        }
    }

    /// <summary>The type and the options types nested in it (properties and dictionary values).</summary>
    private static IEnumerable<Type> OptionsTypes(Type type)
    {
        yield return type;
        foreach (var property in Settable(type))
        {
            var t = DictionaryValue(property.PropertyType) ?? property.PropertyType;
            if (!IsBindable(t) && !IsList(t))
            {
                foreach (var nested in OptionsTypes(t)) yield return nested;
            }
        }
    }

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(static p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");

    private static bool IsBindable(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(TimeSpan) || t == typeof(Uri) || t == typeof(decimal);
    }

    private static bool IsList(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) && IsBindable(t.GetGenericArguments()[0]);

    private static Type? DictionaryValue(Type t) =>
        t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>) && t.GetGenericArguments()[0] == typeof(string) ? t.GetGenericArguments()[1] : null;

    private static Type Resolve(Assembly assembly, string name)
    {
        var matches = assembly.GetExportedTypes().Where(t => t.Name == name).ToList();
        return matches.Count == 1 ? matches[0] : throw new InvalidOperationException($"{matches.Count} public types named {name} in {assembly.GetName().Name}; expected one.");
    }

    /// <summary>The page's default must start with the class's default, written as configuration would spell it.</summary>
    private static void AssertDefault(string key, Setting setting, string documented)
    {
        var value = setting.Default;
        switch (value)
        {
            case IList { Count: 0 }:
                Assert.True(documented.StartsWith("empty", StringComparison.Ordinal), $"{key}: the default is an empty list, the page says {documented}");
                return;
            case null:
                Assert.True(documented.StartsWith("none", StringComparison.Ordinal), $"{key}: the default is none, the page says {documented}");
                return;
        }

        var spelled = value switch
        {
            bool b => b ? "true" : "false",
            TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
            Uri u => u.OriginalString,
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString()!,
        };
        var first = ConfigurationDoc.FirstCode(documented);
        Assert.True(
            string.Equals(first, spelled, value is Enum ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal),
            $"{key}: the options class's default is `{spelled}`, the page says {documented}");
    }
}
