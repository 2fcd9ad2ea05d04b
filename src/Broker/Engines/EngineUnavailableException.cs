namespace Broker.Engines;

/// <summary>
/// The engine cannot serve right now: a cluster engine's shared backend (Redis) is unreachable, too slow,
/// or the engine is stopping. Thrown quickly instead of waiting, so that the caller can answer
/// <c>unavailable</c> (PROTOCOL.md, "Running several brokers") and the client can retry elsewhere or later.
/// </summary>
public sealed class EngineUnavailableException : Exception
{
    /// <summary>Creates the exception with a message that names what could not be reached.</summary>
    public EngineUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the backend's own failure as the inner exception.</summary>
    public EngineUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public EngineUnavailableException()
        : base("The engine is unavailable.")
    {
    }
}
