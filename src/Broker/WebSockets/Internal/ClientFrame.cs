using Broker.Core;
using Broker.Engines;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>One client frame, parsed: the fields of every request type (PROTOCOL.md, "Client to server").</summary>
internal sealed class ClientFrame
{
    public ClientFrameType Type;

    /// <summary>The <c>type</c> text when it is not one we know, for the error message.</summary>
    public string? TypeText;

    public long? Id;
    public string? Ticket;
    public string? Client;
    public Dictionary<string, StreamPosition>? Resume;
    public string? Channel;
    public string? Event;

    /// <summary>The <c>data</c> value's JSON text, copied out of the receive buffer; null when absent.</summary>
    public byte[]? Data;

    public StreamPosition? Since;
    public int? Limit;
}
