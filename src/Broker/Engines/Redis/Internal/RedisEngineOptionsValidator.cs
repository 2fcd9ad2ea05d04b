using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Broker.Engines.Redis.Internal;

/// <summary>Checks <see cref="RedisEngineOptions"/> at start, naming the setting that is wrong.</summary>
internal sealed class RedisEngineOptionsValidator : IValidateOptions<RedisEngineOptions>
{
    /// <summary>Longest prefix: keys stay short, and 64 bytes names any deployment.</summary>
    private const int MaxPrefixLength = 64;

    public ValidateOptionsResult Validate(string? name, RedisEngineOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            failures.Add("Broker:Redis:Configuration must name a Redis (e.g. 127.0.0.1:6379).");
        }
        else
        {
            try
            {
                if (ConfigurationOptions.Parse(options.Configuration).EndPoints.Count == 0)
                {
                    failures.Add("Broker:Redis:Configuration names no endpoint.");
                }
            }
            catch (ArgumentException e)
            {
                failures.Add($"Broker:Redis:Configuration is not a StackExchange.Redis configuration string: {e.Message}");
            }
        }

        if (!IsValidPrefix(options.Prefix))
        {
            failures.Add($"Broker:Redis:Prefix must be 1-{MaxPrefixLength} characters of [A-Za-z0-9_.-:].");
        }

        if (options.OperationTimeout <= TimeSpan.Zero)
        {
            failures.Add("Broker:Redis:OperationTimeout must be a positive TimeSpan.");
        }

        if (options.NumberingTtl < TimeSpan.FromSeconds(1))
        {
            failures.Add("Broker:Redis:NumberingTtl must be at least 00:00:01.");
        }

        if (options.NodeTimeout < TimeSpan.FromSeconds(1))
        {
            failures.Add("Broker:Redis:NodeTimeout must be at least 00:00:01.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsValidPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix.Length > MaxPrefixLength)
        {
            return false;
        }

        foreach (char c in prefix)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
