using Broker.Sessions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Broker.FunctionalTests.Sessions;

/// <summary>A <see cref="TicketService"/> wired by hand: manual clock, in-memory store, captured logs.</summary>
internal sealed class TicketServiceHarness : IDisposable
{
    private readonly ILoggerFactory _loggers;

    public TicketServiceHarness(TicketOptions? tickets = null)
    {
        _loggers = LoggerFactory.Create(builder => builder.AddProvider(Log).SetMinimumLevel(LogLevel.Trace));
        var options = Options.Create(new BrokerSessionOptions { Tickets = tickets ?? new TicketOptions() });
        Sessions = new SessionResolver(Store, DataProtection, Time, _loggers.CreateLogger<SessionResolver>());
        Tickets = new TicketService(Store, Sessions, options, Time, _loggers.CreateLogger<TicketService>());
    }

    public ManualTimeProvider Time { get; } = new();

    public IDataProtectionProvider DataProtection { get; } = new EphemeralDataProtectionProvider();

    public InMemorySessionStore Store { get; } = new();

    public CapturedLog Log { get; } = new();

    public SessionResolver Sessions { get; }

    public TicketService Tickets { get; }

    /// <summary>Issues a ticket for a new session and returns its text.</summary>
    public async Task<string> IssueAsync(IPAddress? clientIp = null, TimeSpan? ttl = null)
    {
        var result = await Tickets.IssueAsync(sessionId: null, clientIp: clientIp, ttl: ttl).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
        Assert.True(result.Succeeded, result.ToString());
        return result.Ticket;
    }

    public void Dispose() => _loggers.Dispose();
}
