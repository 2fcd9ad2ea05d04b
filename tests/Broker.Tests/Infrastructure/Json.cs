using System.Text;

namespace Broker.Tests.Infrastructure;

public static class Json
{
    public static ReadOnlyMemory<byte> Of(string json) => Encoding.UTF8.GetBytes(json);

    public static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);
}
