using System.Buffers;
using System.IO.Pipelines;
using Broker.GrpcTransport;
using Google.Protobuf;
using Interop.V1;

namespace Broker.InteropTests;

/// <summary>Unit tests of the shared wire primitives: framing, grpc-timeout, grpc-message percent-encoding.</summary>
public sealed class WirePrimitivesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("5S", 50_000_000L)]
    [InlineData("100m", 1_000_000L)]
    [InlineData("10u", 100L)]
    [InlineData("1000n", 10L)]
    [InlineData("1n", 1L)] // rounded up to a tick rather than to zero
    [InlineData("99999999S", 999_999_990_000_000L)]
    public void GrpcTimeout_Parses(string value, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(value, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("-5S")]
    [InlineData("123456789S")] // 9 digits: the spec allows at most 8
    [InlineData("1.5S")]
    public void GrpcTimeout_RejectsInvalid(string value) => Assert.False(GrpcTimeout.TryParse(value, out _));

    [Theory]
    [InlineData(1L)]
    [InlineData(999_999L)]
    [InlineData(10_000_000L)]
    [InlineData(12_345_678_901L)]
    [InlineData(864_000_000_000_000L)] // 1000 days
    public void GrpcTimeout_Format_RoundTripsNeverShorter(long ticks)
    {
        var value = GrpcTimeout.Format(TimeSpan.FromTicks(ticks));
        Assert.InRange(value.Length, 2, 9);
        Assert.True(GrpcTimeout.TryParse(value, out var parsed));
        Assert.True(parsed.Ticks >= ticks, $"{value} is shorter than {ticks} ticks");
        // Finest unit that fits in 8 digits: the rounding error stays under 1e-7 relative, or one tick.
        Assert.True(parsed.Ticks - ticks <= Math.Max(1, ticks / 1_000_000), $"{value} for {ticks} ticks");
    }

    [Fact]
    public void GrpcTimeout_Format_ZeroOrNegative_IsShortestValue() => Assert.Equal("1n", GrpcTimeout.Format(TimeSpan.Zero));

    [Fact]
    public void PercentEncoding_PlainAscii_Unchanged_SameInstance()
    {
        const string Text = "Deadline Exceeded (after 5s) ~!";
        Assert.Same(Text, PercentEncoding.Encode(Text));
    }

    [Theory]
    [InlineData("100%", "100%25")]
    [InlineData("ü", "%C3%BC")]
    [InlineData("a\nb", "a%0Ab")]
    [InlineData("✗ 鍵", "%E2%9C%97 %E9%8D%B5")]
    [InlineData("\u007f", "%7F")]
    public void PercentEncoding_Encodes(string text, string encoded)
    {
        Assert.Equal(encoded, PercentEncoding.Encode(text));
        Assert.Equal(text, PercentEncoding.Decode(encoded));
    }

    [Theory]
    [InlineData("%zz", "%zz")]
    [InlineData("50%", "50%")]
    [InlineData("%4", "%4")]
    [InlineData("%e2%9c%97", "✗")]
    [InlineData("%FF", "\uFFFD")] // invalid UTF-8 becomes the replacement character, not an error
    public void PercentEncoding_DecodeIsLenient(string encoded, string text) => Assert.Equal(text, PercentEncoding.Decode(encoded));

    [Fact]
    public void PercentEncoding_LongText_RoundTrips()
    {
        var text = string.Concat(Enumerable.Repeat("Schlüssel ✗ ", 200));
        Assert.Equal(text, PercentEncoding.Decode(PercentEncoding.Encode(text)));
    }

    [Fact]
    public async Task Framing_RoundTrips_MessagesSplitAcrossWrites()
    {
        var pipe = new Pipe();
        var messages = new[]
        {
            new EchoRequest(),
            new EchoRequest { Message = "hello" },
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[100_000]) },
        };
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var m in messages)
        {
            GrpcMessageWriter.WriteMessage(buffer, m, int.MaxValue);
        }

        // Dribble the bytes in 7-byte writes so prefixes and bodies straddle segment boundaries.
        var writer = Task.Run(async () =>
        {
            var bytes = buffer.WrittenMemory;
            for (var i = 0; i < bytes.Length; i += 7)
            {
                await pipe.Writer.WriteAsync(bytes[i..Math.Min(bytes.Length, i + 7)]).AsTask().WaitAsync(Timeout);
            }

            await pipe.Writer.CompleteAsync().AsTask().WaitAsync(Timeout);
        });

        foreach (var expected in messages)
        {
            var actual = await GrpcMessageReader.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, null, default).AsTask().WaitAsync(Timeout);
            Assert.Equal(expected, actual);
        }

        Assert.Null(await GrpcMessageReader.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, null, default).AsTask().WaitAsync(Timeout));
        await writer.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Framing_ReadMessages_TakesWhatIsBuffered_ThenFailsInStreamOrder()
    {
        var pipe = new Pipe();
        var bytes = new ArrayBufferWriter<byte>();
        foreach (var text in new[] { "a", "b", "c" })
        {
            GrpcMessageWriter.WriteMessage(bytes, new EchoRequest { Message = text }, int.MaxValue);
        }

        // Then a message with an undefined flag: it must fail only after the three before it were handed out.
        bytes.Write(new byte[] { 2, 0, 0, 0, 0 });
        await pipe.Writer.WriteAsync(bytes.WrittenMemory).AsTask().WaitAsync(Timeout);
        await pipe.Writer.CompleteAsync().AsTask().WaitAsync(Timeout);

        var batch = new Queue<EchoRequest>();
        Assert.True(await GrpcMessageReader.ReadMessagesAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, null, batch, 2, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(["a", "b"], batch.Select(static m => m.Message));
        batch.Clear();
        Assert.True(await GrpcMessageReader.ReadMessagesAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, null, batch, 128, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(["c"], batch.Select(static m => m.Message));
        var ex = await Assert.ThrowsAsync<RpcException>(() => GrpcMessageReader.ReadMessagesAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, null, batch, 128, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task Framing_ReadMessages_FalseAtTheCleanEnd()
    {
        var pipe = new Pipe();
        await pipe.Writer.CompleteAsync().AsTask().WaitAsync(Timeout);
        var batch = new Queue<EchoRequest>();
        Assert.False(await GrpcMessageReader.ReadMessagesAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, null, batch, 128, default).AsTask().WaitAsync(Timeout));
        Assert.Empty(batch);
    }

    [Fact]
    public void Framing_Prefix_IsFlagThenBigEndianLength()
    {
        var buffer = new ArrayBufferWriter<byte>();
        GrpcMessageWriter.WriteMessage(buffer, new EchoRequest { Message = "hi" }, int.MaxValue);
        // Field 1, wire type 2 (0x0A), length 2, "hi": 4 bytes.
        Assert.Equal(new byte[] { 0, 0, 0, 0, 4, 0x0A, 2, (byte)'h', (byte)'i' }, buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task Framing_OversizedPrefix_ResourceExhausted_BeforeTheBodyArrives()
    {
        var pipe = new Pipe();
        // Only the 5-byte prefix announcing 5 MiB: the reader must refuse without waiting for the body.
        await pipe.Writer.WriteAsync(new byte[] { 0, 0, 0x50, 0, 0 }).AsTask().WaitAsync(Timeout);
        var ex = await Assert.ThrowsAsync<RpcException>(() => GrpcMessageReader.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, 4 * 1024 * 1024, null, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public void Framing_WriteOverLimit_ResourceExhausted()
    {
        var ex = Assert.Throws<RpcException>(() => GrpcMessageWriter.WriteMessage(new ArrayBufferWriter<byte>(), new EchoRequest { Message = "too long" }, 4));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 9, 1, 2 }, StatusCode.Internal)] // truncated body
    [InlineData(new byte[] { 0, 0, 0 }, StatusCode.Internal)] // truncated prefix
    [InlineData(new byte[] { 2, 0, 0, 0, 0 }, StatusCode.Internal)] // undefined flag
    [InlineData(new byte[] { 0, 0, 0, 0, 2, 0xFF, 0xFF }, StatusCode.Internal)] // not protobuf
    public async Task Framing_BadInput_Fails(byte[] bytes, StatusCode code)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(bytes).AsTask().WaitAsync(Timeout);
        await pipe.Writer.CompleteAsync().AsTask().WaitAsync(Timeout);
        var ex = await Assert.ThrowsAsync<RpcException>(() => GrpcMessageReader.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, null, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(code, ex.StatusCode);
    }

    [Theory]
    [InlineData(null, StatusCode.Internal)]
    [InlineData("identity", StatusCode.Internal)]
    [InlineData("gzip", StatusCode.Unimplemented)]
    public async Task Framing_CompressedMessage_RefusedPerEncoding(string? encoding, StatusCode code)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { 1, 0, 0, 0, 0 }).AsTask().WaitAsync(Timeout);
        var ex = await Assert.ThrowsAsync<RpcException>(() => GrpcMessageReader.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, int.MaxValue, encoding, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(code, ex.StatusCode);
    }

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/GRPC; charset=utf-8", true)]
    [InlineData("application/grpc+json", false)]
    [InlineData("application/grpcx", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void ContentType_Recognised(string? contentType, bool expected) => Assert.Equal(expected, GrpcProtocol.IsGrpcContentType(contentType));
}
