namespace Broker.Sdk;

/// <summary>Settings and callbacks of <see cref="BrokerClient.HandleAsync(string, IEnumerable{string}, Func{HandlerContext, CancellationToken, ValueTask{HandlerResult}}, HandlerOptions, CancellationToken)"/>.</summary>
public sealed class HandlerOptions
{
    /// <summary>How many messages are handled at once; also sent to the broker as <c>max_in_flight</c>. Default: 16.</summary>
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>The registration is live (after each (re)connect): the broker's <c>Registered</c> with the handler id.</summary>
    public Action<string>? OnRegistered { get; set; }

    /// <summary>The stream failed; the host reconnects after the given delay.</summary>
    public Action<Exception, TimeSpan>? OnReconnecting { get; set; }

    /// <summary>A handler threw (it is answered <c>internal</c>); for logging. Default: none.</summary>
    public Action<HandlerContext, Exception>? OnHandlerError { get; set; }
}
