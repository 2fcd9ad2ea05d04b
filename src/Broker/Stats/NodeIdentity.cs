using System.Security.Cryptography;
using Broker.Engines;
using Microsoft.Extensions.Options;

namespace Broker.Stats;

/// <summary>
/// Which broker process this is, as <c>/stats</c> (<c>node</c>) and the dashboard name it: the configured
/// <see cref="NodeOptions.NodeName"/>, or the machine name with a random suffix fixed for the life of the
/// process. A cluster's nodes are told apart by it (PROTOCOL.md: "/stats stays per node and names the node").
/// </summary>
public sealed class NodeIdentity
{
    private readonly IEngine _engine;

    /// <summary>Takes the configured name, or makes one.</summary>
    public NodeIdentity(IOptions<NodeOptions> options, IEngine engine)
    {
        ArgumentNullException.ThrowIfNull(options);
        _engine = engine;
        Name = string.IsNullOrEmpty(options.Value.NodeName) ? DefaultName() : options.Value.NodeName;
    }

    /// <summary>The node's readable name.</summary>
    public string Name { get; }

    /// <summary>
    /// The id the engine gives this node (<see cref="IEngine.NodeId"/>: with Redis the <c>N</c> in its keys and
    /// client name, which changes when the node re-registers after being declared dead). Reported beside
    /// <see cref="Name"/> so an operator can find the node's keys; it is not the name because it is random
    /// and not stable for the life of the process.
    /// </summary>
    public string EngineNodeId => _engine.NodeId;

    /// <summary>True when <paramref name="name"/> is 1-64 of <c>[A-Za-z0-9_.-]</c>: safe in a URL, a header and HTML.</summary>
    public static bool IsValidName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > NodeOptions.MaxNameLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string DefaultName()
    {
        Span<char> host = stackalloc char[Math.Min(Environment.MachineName.Length, NodeOptions.MaxNameLength - 7)];
        for (int i = 0; i < host.Length; i++)
        {
            char c = char.ToLowerInvariant(Environment.MachineName[i]);
            host[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-';
        }

        // Six hex digits (24 bits): processes started on one machine (the cluster sample runs three) differ.
        return $"{(host.Length == 0 ? "node" : host.ToString())}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
    }
}
