namespace Broker.LoadTest.Soak;

/// <summary>How a churned socket ends, and what its slot does next.</summary>
internal enum SoakEnding
{
    /// <summary>No close frame (the connection just goes); the slot connects afresh.</summary>
    Abort,

    /// <summary>The close handshake; the slot connects afresh.</summary>
    Close,

    /// <summary>No close frame; the slot reconnects with <c>hello.resume</c> at its last positions.</summary>
    AbortAndResume,

    /// <summary>The close handshake; the slot reconnects with <c>hello.resume</c> at its last positions.</summary>
    CloseAndResume,
}
