using Broker.Sdk;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a shared <see cref="BrokerClient"/> in a service collection.</summary>
public static class BrokerClientServiceCollectionExtensions
{
    /// <summary>Adds a singleton <see cref="BrokerClient"/> configured in code (and validated when first resolved).</summary>
    /// <example><c>services.AddBrokerClient(o =&gt; { o.Address = new Uri("http://broker:8081"); o.ApiKey = key; });</c></example>
    public static IServiceCollection AddBrokerClient(this IServiceCollection services, Action<BrokerClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<BrokerClientOptions>().Configure(configure);
        return AddClient(services);
    }

    /// <summary>
    /// Adds a singleton <see cref="BrokerClient"/> bound from a configuration section (<c>Address</c>, <c>ApiKey</c>,
    /// <c>DefaultDeadline</c>, <c>ReconnectMinBackoff</c>, <c>ReconnectMaxBackoff</c>, <c>PublisherMaxInFlight</c>,
    /// <c>PublisherMaxRetries</c>), e.g. <c>configuration.GetSection("Broker:Client")</c>.
    /// </summary>
    public static IServiceCollection AddBrokerClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<BrokerClientOptions>().Bind(configuration);
        return AddClient(services);
    }

    private static IServiceCollection AddClient(IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<BrokerClientOptions>, BrokerClientOptionsValidator>();
        services.AddSingleton(static provider => new BrokerClient(
            provider.GetRequiredService<IOptions<BrokerClientOptions>>().Value,
            provider.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>Runs <see cref="BrokerClientOptions.Validate"/> for the options system (and ValidateOnStart).</summary>
    private sealed class BrokerClientOptionsValidator : IValidateOptions<BrokerClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, BrokerClientOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message);
            }
        }
    }
}
