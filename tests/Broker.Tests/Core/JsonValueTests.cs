using System.Text;
using Broker.Core;

namespace Broker.Tests.Core;

public class JsonValueTests
{
    [Theory]
    [InlineData("{}", true)]
    [InlineData("[1,2]", true)]
    [InlineData("\"text\"", true)]
    [InlineData("-1.5e3", true)]
    [InlineData("true", true)]
    [InlineData("null", true)]
    [InlineData(" {\"a\":[{}]} ", true)]
    [InlineData("", false)]
    [InlineData("{", false)]
    [InlineData("1 2", false)]
    [InlineData("{}{}", false)]
    [InlineData("undefined", false)]
    [InlineData("'single'", false)]
    public void AcceptsExactlyOneJsonValue(string text, bool valid) => Assert.Equal(valid, JsonValue.IsSingle(Encoding.UTF8.GetBytes(text)));
}
