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
