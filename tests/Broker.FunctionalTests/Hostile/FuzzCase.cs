namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// One fuzzed input: the WebSocket frames to send (a message, possibly fragmented, possibly with control frames
/// between its fragments), what must come back, and a description for the failure message.
/// </summary>
public sealed record FuzzCase(string Description, IReadOnlyList<(byte Opcode, byte[] Payload, bool Fin)> Frames, FuzzExpectation Expected, int CloseCode = 0);
