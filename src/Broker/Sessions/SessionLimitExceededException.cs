namespace Broker.Sessions;

/// <summary>
/// A new session was refused because the store holds <c>Broker:Sessions:MaxCount</c> sessions already. The
/// caller answers with its transport's refusal (<c>POST /session</c>: 503; <c>hello</c>: <c>limit_exceeded</c>).
/// </summary>
public sealed class SessionLimitExceededException : Exception
{
    /// <summary>Creates the exception with the default message.</summary>
    public SessionLimitExceededException()
        : base("The broker holds as many sessions as Broker:Sessions:MaxCount allows.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public SessionLimitExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public SessionLimitExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
