using Broker.Core;
using Broker.Engines;
using Microsoft.Extensions.Options;

namespace Broker.Core.Internal;

/// <summary>
/// Checks <see cref="BrokerOptions"/> at start (<c>ValidateOnStart</c>), so bad configuration stops the
/// broker with a message that names the setting. (An unknown enum value, e.g. <c>Overflow: Sometimes</c>,
/// already fails in the configuration binder with the setting's path in its message.)
/// </summary>
internal sealed class BrokerOptionsValidator : IValidateOptions<BrokerOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxMessageBytes <= 0)
        {
            failures.Add($"Broker:MaxMessageBytes must be greater than 0 (was {options.MaxMessageBytes}).");
        }

        if (options.MaxQueuedBytes < 1L << 20)
        {
            failures.Add($"Broker:MaxQueuedBytes must be at least 1048576 (was {options.MaxQueuedBytes}).");
        }

        foreach (var (ns, o) in options.Namespaces)
        {
            string key = $"Broker:Namespaces:{ns}";
            if (!IsValidNamespaceName(ns))
            {
                failures.Add($"{key}: '{ns}' is not a namespace name (1-255 of [A-Za-z0-9_.-@#/=], no ':'; or $session / $user).");
            }

            if (o is null)
            {
                continue;
            }

            if (o.HistorySize < 0)
            {
                failures.Add($"{key}:HistorySize must be 0 or more (was {o.HistorySize}).");
            }

            if (o.HistoryTtl <= TimeSpan.Zero)
            {
                failures.Add($"{key}:HistoryTtl must be a positive TimeSpan such as 00:05:00 (was {o.HistoryTtl}).");
            }

            if (o.BufferMessages < 1)
            {
                failures.Add($"{key}:BufferMessages must be 1 or more (was {o.BufferMessages}).");
            }

            if (o.BufferBytes < options.MaxMessageBytes + Publication.FixedOverheadBytes)
            {
                failures.Add($"{key}:BufferBytes must hold at least one largest message, {options.MaxMessageBytes + Publication.FixedOverheadBytes} bytes (was {o.BufferBytes}).");
            }

            if (!Enum.IsDefined(o.Overflow))
            {
                failures.Add($"{key}:Overflow must be DropOldest or Disconnect (was {o.Overflow}).");
            }

            if (!Enum.IsDefined(o.Subscribe) || !Enum.IsDefined(o.Publish))
            {
                failures.Add($"{key}:Subscribe and :Publish must be none, authenticated or anyone.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsValidNamespaceName(string ns) =>
        ns is "$session" or "$user" || (ns.Length > 0 && !ns.Contains(':', StringComparison.Ordinal) && ChannelNames.Classify(ns) == ChannelKind.Regular);
}
