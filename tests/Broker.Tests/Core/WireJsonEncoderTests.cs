using System.Text;
using System.Text.Json;
using Broker.Core;

namespace Broker.Tests.Core;

public class WireJsonEncoderTests
{
    [Theory]
    [InlineData("'channel' is required.", "\"'channel' is required.\"")]
    [InlineData("a+b `c`", "\"a+b `c`\"")]
    [InlineData("café ☕", "\"café ☕\"")]
    [InlineData("</script><!--&", "\"\\u003C/script\\u003E\\u003C!--\\u0026\"")]
    [InlineData("say \"hi\"\\", "\"say \\\"hi\\\"\\\\\"")]
    [InlineData("line\nsep\u2028\u0001", "\"line\\nsep\\u2028\\u0001\"")]
    public void EscapesOnlyWhatJsonAndHtmlNeed(string text, string expected)
    {
        string written = Write(text);

        Assert.Equal(expected, written);
        Assert.Equal(text, JsonDocument.Parse(written).RootElement.GetString());
    }

    [Fact]
    public void EscapesInTheMiddleOfLongText()
    {
        // Long enough that the writer's vectorised scans look at whole blocks, with the one character to
        // escape after plain text and after non-ASCII text.
        string text = new string('a', 100) + "é" + new string('b', 100) + "<" + new string('c', 100);

        string written = Write(text);

        Assert.Contains("b\\u003Cc", written, StringComparison.Ordinal);
        Assert.Equal(text, JsonDocument.Parse(written).RootElement.GetString());
    }

    private static string Write(string text)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = WireJsonEncoder.Instance }))
        {
            writer.WriteStringValue(text);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
