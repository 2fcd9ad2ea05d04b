using System.Text;
using System.Text.Json.Nodes;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// Seeded inputs for the WebSocket transport: every client frame type of PROTOCOL.md, mutated (a field missing,
/// an extra one, one of the wrong type), with awkward numbers (<c>1e400</c>, <c>-0</c>, out of range), strings at
/// and over the limits, nesting 10,000 deep, broken and non-object JSON, several frames in one message, messages
/// fragmented with control frames between the fragments, and now and then what ends the socket (binary, too big,
/// invalid UTF-8, a framing error). The same seed always gives the same inputs, so a failure names its seed.
/// </summary>
public sealed class FrameFuzzer(int seed, int maxDataBytes, int maxMessageBytes)
{
    private static readonly string[] Channels =
        ["room:fuzz", "room:a", "room:b", "chat:fz", "news:x", "nope:x", "$session:abc", "$user:alice", "$broker:x", "room", "bad channel", ""];

    private static readonly string[] Types = ["hello", "subscribe", "unsubscribe", "publish", "send", "history", "presence", "ping", "pong"];

    private static readonly string[] OddNumbers =
        ["1e400", "-1e400", "-0", "0e0", "1.5", "-1", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e-400", "18446744073709551616", "0.0000001"];

    private readonly Random _random = new(seed);

    /// <summary>The seed, for failure messages.</summary>
    public int Seed => seed;

    /// <summary>An input for a socket that has said hello.</summary>
    public FuzzCase AfterHello()
    {
        int pick = _random.Next(100);
        return pick switch
        {
            < 2 => Ends("a binary message", [(RawWebSocket.Binary, Bytes(_random.Next(1, 64)), true)], 1003),
            < 4 => Ends("a message over Broker:WebSocket:MaxMessageBytes", Fragment(Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"pad\":\"" + new string('p', maxMessageBytes) + "\"}")), 1009),
            < 6 => Ends("invalid UTF-8 in a text frame", [(RawWebSocket.Text, InvalidUtf8(), true)], 1007),
            < 8 => FramingError(),
            < 18 => Text("broken JSON", BrokenJson(), FuzzExpectation.BadRequest),
            < 22 => Text("JSON nested 10,000 deep", Nested(10_000), FuzzExpectation.BadRequest),
            < 24 => Text("a burst of frames in one message", Burst(), FuzzExpectation.StaysOpen),
            < 30 => Text("several frames in one message", string.Join('\n', Enumerable.Range(0, _random.Next(2, 5)).Select(_ => Mutated(afterHello: true).ToJsonString())), FuzzExpectation.StaysOpen),
            < 36 => Text("data at or over Broker:MaxMessageBytes", LongData(), FuzzExpectation.StaysOpen),
            _ => Text("a mutated frame", Mutated(afterHello: true).ToJsonString(), FuzzExpectation.StaysOpen),
        };
    }

    /// <summary>An input for a new socket, before hello; <paramref name="ticket"/> is a good ticket a mutated hello may carry.</summary>
    public (FuzzCase Case, bool MayBeWelcomed) BeforeHello(string ticket)
    {
        int pick = _random.Next(100);
        if (pick < 5)
        {
            return (Ends("a binary message before hello", [(RawWebSocket.Binary, Bytes(8), true)], 1003), false);
        }

        if (pick < 15)
        {
            return (Text("broken JSON before hello", BrokenJson(), FuzzExpectation.Closes, 1008), false);
        }

        var frame = Mutated(afterHello: false);
        bool isHello = frame["type"] is JsonValue type && type.TryGetValue<string>(out var text) && text == "hello";
        if (isHello && _random.Next(2) == 0)
        {
            frame["ticket"] = ticket;
        }

        return (Text("a mutated frame before hello", frame.ToJsonString(), FuzzExpectation.Closes, 1008), isHello);
    }

    /// <summary>A well-formed frame of a random type, then one mutation of it (or none).</summary>
    private JsonObject Mutated(bool afterHello)
    {
        var frame = Template(Types[_random.Next(Types.Length)]);
        var keys = frame.Select(static p => p.Key).ToList();
        switch (_random.Next(6))
        {
            case 0:
                break;  // as is: the answer must still be one PROTOCOL.md allows
            case 1:
                frame.Remove(keys[_random.Next(keys.Count)]);
                break;
            case 2:
                frame[RandomName()] = RandomValue(depth: 0);
                break;
            case 3:
                frame[keys[_random.Next(keys.Count)]] = RandomValue(depth: 0);
                break;
            case 4:
                frame[Pick(["id", "limit", "offset"], keys)] = JsonNode.Parse(OddNumbers[_random.Next(OddNumbers.Length)]);
                if (frame["since"] is JsonObject since)
                {
                    since["offset"] = JsonNode.Parse(OddNumbers[_random.Next(OddNumbers.Length)]);
                }

                break;
            default:
                frame[Pick(["channel", "event", "ticket", "type"], keys)] = OddString();
                break;
        }

        return frame;
    }

    private JsonObject Template(string type)
    {
        var frame = new JsonObject { ["type"] = type };
        if (type is not ("ping" or "pong") || _random.Next(2) == 0)
        {
            frame["id"] = _random.Next(1, 1_000_000);
        }

        string channel = Channels[_random.Next(Channels.Length)];
        switch (type)
        {
            case "hello":
                frame["ticket"] = Convert.ToBase64String(Bytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                frame["client"] = "fuzz/1.0";
                frame["resume"] = new JsonObject { [channel] = Position() };
                break;
            case "subscribe":
                frame["channel"] = channel;
                if (_random.Next(2) == 0)
                {
                    frame["since"] = Position();
                }

                break;
            case "unsubscribe" or "presence":
                frame["channel"] = channel;
                break;
            case "publish":
                frame["channel"] = channel;
                frame["event"] = _random.Next(3) == 0 ? "chat.post" : "message";
                frame["data"] = RandomValue(depth: 0);
                break;
            case "send":
                frame["event"] = "chat.post";
                frame["data"] = RandomValue(depth: 0);
                break;
            case "history":
                frame["channel"] = channel;
                frame["limit"] = _random.Next(-2, 200);
                if (_random.Next(2) == 0)
                {
                    frame["since"] = Position();
                }

                break;
        }

        return frame;
    }

    private JsonObject Position() => new() { ["epoch"] = _random.Next(2) == 0 ? "e1" : RandomName(), ["offset"] = _random.Next(0, 100) };

    private JsonNode? RandomValue(int depth) => _random.Next(depth > 2 ? 5 : 7) switch
    {
        0 => null,
        1 => JsonValue.Create(_random.Next(2) == 0),
        2 => JsonNode.Parse(_random.Next(3) == 0 ? OddNumbers[_random.Next(OddNumbers.Length)] : _random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        3 or 4 => JsonValue.Create(_random.Next(4) == 0 ? OddString() : RandomName()),
        5 => new JsonArray(Enumerable.Range(0, _random.Next(4)).Select(_ => RandomValue(depth + 1)).ToArray()),
        _ => RandomObject(depth + 1),
    };

    private JsonObject RandomObject(int depth)
    {
        var value = new JsonObject();
        for (int i = _random.Next(4); i > 0; i--)
        {
            value[RandomName()] = RandomValue(depth);  // a repeated name replaces: the tree itself must stay valid
        }

        return value;
    }

    private string RandomName()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz_:.-$#@/=*";
        var chars = new char[_random.Next(1, 12)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[_random.Next(alphabet.Length)];
        }

        return new string(chars);
    }

    /// <summary>Strings a parser may trip on: lone surrogates, NUL, control characters, RTL marks, over-long names.</summary>
    private string OddString() => _random.Next(7) switch
    {
        0 => "\ud800",
        1 => "a\u0000b",
        2 => "\u202e\u0007\u001b[31m",
        3 => new string('c', _random.Next(250, 300)),
        4 => "room:" + new string('x', 251),
        5 => "😀:ü",
        _ => "",
    };

    private string Pick(string[] preferred, List<string> keys)
    {
        var present = preferred.Where(keys.Contains).ToList();
        return present.Count > 0 ? present[_random.Next(present.Count)] : preferred[_random.Next(preferred.Length)];
    }

    private string BrokenJson() => _random.Next(7) switch
    {
        0 => Mutated(afterHello: true).ToJsonString() is var whole ? whole[..(1 + _random.Next(whole.Length - 1))] : "",  // truncated: never whole
        1 => "[" + Mutated(afterHello: true).ToJsonString() + "]",  // not an object
        2 => _random.Next(2) == 0 ? "\"hello\"" : "42",
        3 => "{\"type\":\"ping\",}",
        4 => "{'type':'ping'}",
        5 => "{\"type\":\"ping\"} trailing",
        _ => new string(Enumerable.Range(0, _random.Next(1, 40)).Select(_ => (char)_random.Next(0x21, 0x7F)).ToArray()) is var junk && junk.TrimStart().StartsWith('{') ? "x" + junk : junk,
    };

    /// <summary>Up to the whole message limit of small frames, each of which gets an answer.</summary>
    private string Burst()
    {
        string frame = _random.Next(3) switch { 0 => "{\"type\":\"ping\"}", 1 => "{}", _ => "{\"type\":\"presence\",\"channel\":\"nope:x\"}" };
        int count = Math.Min(_random.Next(500, 5000), (maxMessageBytes / (frame.Length + 1)) - 1);
        return string.Join('\n', Enumerable.Repeat(frame, count));
    }

    private static string Nested(int depth) =>
        "{\"type\":\"publish\",\"id\":9,\"channel\":\"room:a\",\"data\":" + new string('[', depth) + new string(']', depth) + "}";

    private string LongData()
    {
        // Data of exactly the limit, one byte over, or well over (but inside one WebSocket message).
        int size = maxDataBytes + _random.Next(3) switch { 0 => 0, 1 => 1, _ => 1000 };
        return "{\"type\":\"publish\",\"id\":11,\"channel\":\"room:a\",\"data\":\"" + new string('d', size - 2) + "\"}";
    }

    private byte[] InvalidUtf8() => _random.Next(4) switch
    {
        0 => [(byte)'{', 0xC3, 0x28, (byte)'}'],          // a bad continuation byte
        1 => [(byte)'{', 0xED, 0xA0, 0x80, (byte)'}'],    // an encoded surrogate
        2 => [(byte)'{', 0xF8, 0x88, 0x80, 0x80, 0x80],   // a five-byte form
        _ => [(byte)'{', 0xC0, 0xAF, (byte)'}'],          // an overlong '/'
    };

    private FuzzCase FramingError()
    {
        var ping = """{"type":"ping"}"""u8.ToArray();
        return _random.Next(5) switch
        {
            0 => Ends("a reserved opcode", [((byte)_random.Next(3, 8), ping, true)], 1002),
            1 => Ends("a continuation with no message", [(RawWebSocket.Continuation, ping, true)], 1002),
            2 => Ends("a control frame over 125 bytes", [(RawWebSocket.Ping, Bytes(126 + _random.Next(100)), true)], 1002),
            3 => Ends("a fragmented control frame", [(RawWebSocket.Ping, Bytes(3), false)], 1002),
            _ => Ends("a close frame with a bad code", [(RawWebSocket.Close, CloseCode(_random.Next(2) == 0 ? _random.Next(0, 1000) : new[] { 1004, 1005, 1006, 1015, 2999, 5000 }[_random.Next(6)]), true)], 1002),
        };
    }

    private static byte[] CloseCode(int code) => [(byte)(code >> 8), (byte)code];

    private FuzzCase Text(string description, string json, FuzzExpectation expected, int closeCode = 0) =>
        new($"{description}: {Shorten(json)}", Fragment(Encoding.UTF8.GetBytes(json)), expected, closeCode);

    private static FuzzCase Ends(string description, List<(byte, byte[], bool)> frames, int code) =>
        new(description, frames, FuzzExpectation.Closes, code);

    /// <summary>One text message as one frame, or in fragments with pings and pongs between them (RFC 6455 allows both).</summary>
    private List<(byte, byte[], bool)> Fragment(byte[] message)
    {
        if (message.Length < 2 || _random.Next(3) != 0)
        {
            return [(RawWebSocket.Text, message, true)];
        }

        var frames = new List<(byte, byte[], bool)>();
        int cuts = _random.Next(1, 4);
        int at = 0;
        for (int i = 0; i <= cuts; i++)
        {
            int end = i == cuts ? message.Length : Math.Min(message.Length - 1, at + _random.Next(1, Math.Max(2, message.Length / cuts)));
            if (end <= at)
            {
                continue;
            }

            frames.Add((frames.Count == 0 ? RawWebSocket.Text : RawWebSocket.Continuation, message[at..end], end == message.Length));
            at = end;
            if (end < message.Length && _random.Next(2) == 0)
            {
                frames.Add((_random.Next(2) == 0 ? RawWebSocket.Ping : RawWebSocket.Pong, Bytes(_random.Next(0, 10)), true));
            }
        }

        return frames;
    }

    private byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + $"… ({text.Length} chars)";
}
