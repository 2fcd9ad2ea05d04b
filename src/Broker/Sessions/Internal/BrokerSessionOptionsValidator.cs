using Broker.Sessions;
using Microsoft.Extensions.Options;

namespace Broker.Sessions.Internal;

/// <summary>
/// Checks <see cref="BrokerSessionOptions"/> at start so a bad setting stops the broker with a message that
/// names the setting, rather than failing on the first request.
/// </summary>
internal sealed class BrokerSessionOptionsValidator : IValidateOptions<BrokerSessionOptions>
{
    public ValidateOptionsResult Validate(string? name, BrokerSessionOptions options)
    {
        List<string>? failures = null;

        if (options.Tickets is null)
        {
            (failures ??= []).Add("Broker:Tickets must not be null.");
        }
        else if (options.Tickets.Ttl <= TimeSpan.Zero)
        {
            (failures ??= []).Add($"Broker:Tickets:Ttl must be a positive TimeSpan such as 00:00:30; it is {options.Tickets.Ttl}.");
        }

        if (options.Tickets is { MaxOutstanding: < 1 })
        {
            (failures ??= []).Add($"Broker:Tickets:MaxOutstanding must be 1 or more; it is {options.Tickets.MaxOutstanding}.");
        }

        if (options.Sessions is null)
        {
            (failures ??= []).Add("Broker:Sessions must not be null.");
        }
        else
        {
            if (options.Sessions.IdleTimeout < TimeSpan.FromSeconds(1))
            {
                (failures ??= []).Add($"Broker:Sessions:IdleTimeout must be at least 00:00:01; it is {options.Sessions.IdleTimeout}.");
            }

            if (options.Sessions.Lifetime < options.Sessions.IdleTimeout)
            {
                (failures ??= []).Add($"Broker:Sessions:Lifetime must be at least Broker:Sessions:IdleTimeout; it is {options.Sessions.Lifetime}.");
            }

            if (options.Sessions.MaxCount < 1)
            {
                (failures ??= []).Add($"Broker:Sessions:MaxCount must be 1 or more; it is {options.Sessions.MaxCount}.");
            }
        }

        var origins = options.AllowedOrigins ?? [];
        for (var i = 0; i < origins.Count; i++)
        {
            if (!OriginPolicy.TryNormalizeOrigin(origins[i], out _))
            {
                (failures ??= []).Add(
                    $"Broker:AllowedOrigins:{i} ('{origins[i]}') is not an origin: expected http(s)://host[:port] with no path, query or wildcard.");
            }
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
