namespace Broker.Sessions;

/// <summary>
/// The session or ticket store cannot answer now: a shared store's backend (the cluster's Redis) is unreachable,
/// stalled, still loading, or not connected yet. Transient: the caller answers its transport's <c>unavailable</c>
/// (HTTP 503 with <c>Retry-After</c>, gRPC <c>UNAVAILABLE</c>, a WebSocket <c>error</c> <c>unavailable</c>) and the
/// client tries again, as for an unreachable engine (PROTOCOL.md, "Running several brokers").
/// </summary>
/// <remarks>
/// A store throws this, and only this, for a backend it cannot reach, so that no caller needs to know the backend's
/// own exceptions; the store logs the cause (once a minute, with a count), the caller counts its refusal in
/// <c>broker.engine.unavailable</c> by operation and logs nothing more.
/// </remarks>
public sealed class SessionStoreUnavailableException : Exception
{
    /// <summary>Creates the exception with the default message.</summary>
    public SessionStoreUnavailableException()
        : base("The session store is unreachable; try again.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public SessionStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the backend's own failure.</summary>
    public SessionStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
