namespace Broker.FunctionalTests.Hostile;

/// <summary>What PROTOCOL.md promises for one fuzzed input.</summary>
public enum FuzzExpectation
{
    /// <summary>Answered (replies or <c>error</c>s of the allowed codes, never <c>internal</c>); the socket stays open.</summary>
    StaysOpen,

    /// <summary>As <see cref="StaysOpen"/>, and at least one <c>error</c> <c>bad_request</c> comes (the frame could not be read).</summary>
    BadRequest,

    /// <summary>The socket is closed with <see cref="FuzzCase.CloseCode"/>.</summary>
    Closes,
}
