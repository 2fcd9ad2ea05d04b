using Broker.V1;
using Google.Protobuf;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// Seeded request bodies for the gRPC fuzz: each RPC's valid request (<see cref="Valid"/>) mutated (bits flipped,
/// truncated, bytes inserted), random bytes, and the protobuf encodings a parser must refuse (a zero tag, wire
/// types 6 and 7, a length past the end, a varint of 11 bytes, groups nested past the recursion limit), or must
/// skip (<see cref="WithUnknownFields"/>). The same seed makes the same inputs.
/// </summary>
public sealed class GrpcFuzzer(int seed)
{
    private readonly Random _random = new(seed);

    public int Seed { get; } = seed;

    /// <summary>A request PROTOCOL.md accepts, with every field of the message set, so mutations reach each of them.</summary>
    public static byte[] Valid(GrpcRpc rpc) => rpc switch
    {
        GrpcRpc.Publish or GrpcRpc.PublishStream => new PublishRequest
        {
            Channel = "room:target",
            Event = "message",
            Data = ByteString.CopyFromUtf8("""{"n":1,"s":"text"}"""),
            IdempotencyKey = "k",
            RequestId = 7,
        }.ToByteArray(),
        GrpcRpc.Subscribe => new SubscribeRequest
        {
            Channels = { "room:target", "room:p*" },
            Since = { ["room:target"] = new StreamPosition { Epoch = "e", Offset = 3 } },
            Buffer = 16,
        }.ToByteArray(),
        GrpcRpc.Handle => new HandlerMessage { Register = new HandlerRegistration { Group = "fuzz", Events = { "fuzz.*", "other" }, MaxInFlight = 3 } }.ToByteArray(),
        GrpcRpc.HandleReply => new HandlerMessage { Reply = new HandlerReply { InboundId = 12345, Data = ByteString.CopyFromUtf8("""{"ok":true}"""), ErrorCode = "", ErrorMessage = "" } }.ToByteArray(),
        GrpcRpc.IssueTicket => new IssueTicketRequest { UserId = "u1", Claims = { ["role"] = "x" }, ClientIp = "10.0.0.1", TtlSeconds = 30 }.ToByteArray(),
        GrpcRpc.Disconnect => new DisconnectRequest { UserId = "nobody", Reason = "fuzz", Reconnect = true }.ToByteArray(),
        GrpcRpc.History => new HistoryRequest { Channel = "room:target", Since = new StreamPosition { Epoch = "e", Offset = 1 }, Limit = 5 }.ToByteArray(),
        _ => new PresenceRequest { Channel = "chat:target" }.ToByteArray(),
    };

    /// <summary>
    /// <paramref name="message"/> followed by fields no version of the contract has: a varint, a fixed32, a fixed64,
    /// a length-delimited field and a group, numbered far above any field in use. A parser must skip them.
    /// </summary>
    public static byte[] WithUnknownFields(byte[] message)
    {
        using var stream = new MemoryStream();
        stream.Write(message);
        var output = new CodedOutputStream(stream, leaveOpen: true);
        output.WriteTag(1000, WireFormat.WireType.Varint);
        output.WriteUInt64(ulong.MaxValue);
        output.WriteTag(1001, WireFormat.WireType.Fixed32);
        output.WriteFixed32(0xDEADBEEF);
        output.WriteTag(1002, WireFormat.WireType.Fixed64);
        output.WriteFixed64(42);
        output.WriteTag(1003, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFromUtf8("a future field"));
        output.WriteTag(1004, WireFormat.WireType.StartGroup);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt32(5);
        output.WriteTag(1004, WireFormat.WireType.EndGroup);
        output.Flush();
        return stream.ToArray();
    }

    /// <summary>The next input for <paramref name="rpc"/> and what it is, for a failure message.</summary>
    public (byte[] Payload, string Description) Next(GrpcRpc rpc)
    {
        var valid = Valid(rpc);
        switch (_random.Next(10))
        {
            case 0:
                return (RandomBytes(_random.Next(1, 65)), "random bytes");
            case 1:
            {
                var bytes = (byte[])valid.Clone();
                int flips = _random.Next(1, 5);
                for (int i = 0; i < flips; i++)
                {
                    bytes[_random.Next(bytes.Length)] ^= (byte)(1 << _random.Next(8));
                }

                return (bytes, $"{flips} bits flipped");
            }

            case 2:
            {
                int length = _random.Next(1, valid.Length);
                return (valid[..length], $"truncated to {length} of {valid.Length} bytes");
            }

            case 3:
            {
                int at = _random.Next(valid.Length + 1);
                return ([.. valid[..at], .. RandomBytes(_random.Next(1, 9)), .. valid[at..]], $"random bytes inserted at {at}");
            }

            case 4:
                // Wire types 6 and 7 do not exist.
                return ([.. valid, (byte)((_random.Next(1, 16) << 3) | _random.Next(6, 8)), 0], "a tag with wire type 6 or 7");
            case 5:
                return ([.. valid, 0, 1], "a zero tag");
            case 6:
                // Field 3 (length-delimited) claiming 127 bytes, followed by 3.
                return ([.. valid, 0x1A, 0x7F, 1, 2, 3], "a length past the end");
            case 7:
                // A varint may have at most 10 bytes.
                return ([.. valid, 0x08, .. Enumerable.Repeat((byte)0xFF, 11), 0x01], "a varint of 12 bytes");
            case 8:
            {
                // Field 15 as a group, nested past protobuf's recursion limit (100).
                int depth = _random.Next(101, 2001);
                return ([.. valid, .. Enumerable.Repeat((byte)0x7B, depth)], $"groups nested {depth} deep");
            }

            default:
                return (WithUnknownFields(valid), "unknown fields");
        }
    }

    /// <summary>Whether the server's parser (the message type's own) reads <paramref name="payload"/> as a request of <paramref name="rpc"/>.</summary>
    public static bool Parses(GrpcRpc rpc, byte[] payload)
    {
        try
        {
            _ = rpc switch
            {
                GrpcRpc.Publish or GrpcRpc.PublishStream => (IMessage)PublishRequest.Parser.ParseFrom(payload),
                GrpcRpc.Subscribe => SubscribeRequest.Parser.ParseFrom(payload),
                GrpcRpc.Handle or GrpcRpc.HandleReply => HandlerMessage.Parser.ParseFrom(payload),
                GrpcRpc.IssueTicket => IssueTicketRequest.Parser.ParseFrom(payload),
                GrpcRpc.Disconnect => DisconnectRequest.Parser.ParseFrom(payload),
                GrpcRpc.History => HistoryRequest.Parser.ParseFrom(payload),
                _ => PresenceRequest.Parser.ParseFrom(payload),
            };
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }
}
