using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// One namespace's settings, read once from <see cref="NamespaceOptions"/> into readonly fields so the
/// hot path never touches the options object.
/// </summary>
public sealed class NamespacePolicy
{
    /// <summary>Reads a namespace's options.</summary>
    public NamespacePolicy(string name, NamespaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        HistorySize = options.HistorySize;
        HistoryTtl = options.HistoryTtl;
        History = new HistoryOptions(options.HistorySize, options.HistoryTtl);
        Subscribe = options.Subscribe;
        Publish = options.Publish;
        Presence = options.Presence;
        BufferMessages = options.BufferMessages;
        BufferBytes = options.BufferBytes;
        Overflow = options.Overflow;
    }

    /// <summary>The namespace's configuration key (<c>default</c> for channels without one).</summary>
    public string Name { get; }

    /// <inheritdoc cref="NamespaceOptions.HistorySize"/>
    public int HistorySize { get; }

    /// <inheritdoc cref="NamespaceOptions.HistoryTtl"/>
    public TimeSpan HistoryTtl { get; }

    /// <summary><see cref="HistorySize"/> and <see cref="HistoryTtl"/> as an engine takes them with each publish.</summary>
    public HistoryOptions History { get; }

    /// <inheritdoc cref="NamespaceOptions.Subscribe"/>
    public Permission Subscribe { get; }

    /// <inheritdoc cref="NamespaceOptions.Publish"/>
    public Permission Publish { get; }

    /// <inheritdoc cref="NamespaceOptions.Presence"/>
    public bool Presence { get; }

    /// <inheritdoc cref="NamespaceOptions.BufferMessages"/>
    public int BufferMessages { get; }

    /// <inheritdoc cref="NamespaceOptions.BufferBytes"/>
    public long BufferBytes { get; }

    /// <inheritdoc cref="NamespaceOptions.Overflow"/>
    public OverflowPolicy Overflow { get; }

    /// <summary>True when a browser whose session has (or lacks) a user passes <paramref name="permission"/>.</summary>
    public static bool Allows(Permission permission, bool hasUser) => permission switch
    {
        Permission.Anyone => true,
        Permission.Authenticated => hasUser,
        _ => false,
    };
}
