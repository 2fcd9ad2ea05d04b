using System.IO.Pipelines;
using Broker.V1;
using Google.Protobuf;

namespace Broker.SdkTests.Unit;

/// <summary>
/// The shared message reader (src/GrpcTransport) that the SDK's streams read replies with. Found through the
/// pipelined publisher: a batch of replies flushed together sat unread until more bytes came.
/// </summary>
public sealed class GrpcMessageReaderTests
{
    [Fact]
    public async Task Messages_buffered_together_are_all_read_without_waiting_for_more_bytes()
    {
        var pipe = new Pipe();
        var batch = new List<byte>();
        for (ulong i = 1; i <= 3; i++)
        {
            var message = new PublishReply { RequestId = i }.ToByteArray();
            batch.Add(0);
            batch.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)message.Length)));
            batch.AddRange(message);
        }

        // One write, one flush, and the writer stays open: the reader must not need another write to see 2 and 3.
        await pipe.Writer.WriteAsync(batch.ToArray());
        for (ulong i = 1; i <= 3; i++)
        {
            var reply = await GrpcMessageReader.ReadMessageAsync(pipe.Reader, PublishReply.Parser, 1 << 20, null, CancellationToken.None).AsTask().WaitAsync(SdkTestBroker.Timeout);
            Assert.Equal(i, reply!.RequestId);
        }
    }
}
