namespace Broker.GrpcTransport;

/// <summary>
/// Constants and small rules of the gRPC-over-HTTP/2 protocol (grpc/grpc doc/PROTOCOL-HTTP2.md) shared by
/// the server and the client transports.
/// </summary>
public static class GrpcProtocol
{
    /// <summary>The gRPC content type; the <c>+proto</c> suffix is implied.</summary>
    public const string ContentType = "application/grpc";

    /// <summary>The gRPC content type with the protobuf suffix spelled out.</summary>
    public const string ContentTypeProto = "application/grpc+proto";

    /// <summary>The header holding the status code (decimal ASCII) in trailers or in a trailers-only response.</summary>
    public const string StatusHeader = "grpc-status";

    /// <summary>The header holding the percent-encoded status detail.</summary>
    public const string MessageHeader = "grpc-message";

    /// <summary>The request header holding the call's timeout (<see cref="GrpcTimeout"/>).</summary>
    public const string TimeoutHeader = "grpc-timeout";

    /// <summary>The header naming the compression of the messages that follow it.</summary>
    public const string EncodingHeader = "grpc-encoding";

    /// <summary>The header listing the compressions the sender accepts.</summary>
    public const string AcceptEncodingHeader = "grpc-accept-encoding";

    /// <summary>The only message encoding this transport implements: none.</summary>
    public const string IdentityEncoding = "identity";

    /// <summary>The <c>te</c> header a gRPC client must send, with value <see cref="TrailersValue"/>.</summary>
    public const string TeHeader = "te";

    /// <summary>The value of the <c>te</c> header: the client understands trailers.</summary>
    public const string TrailersValue = "trailers";

    /// <summary>The user-agent header.</summary>
    public const string UserAgentHeader = "user-agent";

    /// <summary>The length prefix of a message: 1 byte compressed-flag + 4 bytes big-endian length.</summary>
    public const int MessageHeaderSize = 5;

    /// <summary>
    /// The default largest message accepted: 4 MiB, the default of grpc-core, grpc-java and grpc-dotnet, and the
    /// request limit PROTOCOL.md promises.
    /// </summary>
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>
    /// Whether a content type is one this transport speaks: <c>application/grpc</c> or
    /// <c>application/grpc+proto</c>, optionally followed by <c>;</c> parameters.
    /// </summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = contentType.AsSpan(ContentType.Length);
        if (rest.StartsWith("+proto", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest["+proto".Length..];
        }

        return rest.IsEmpty || rest[0] == ';';
    }

    /// <summary>
    /// Whether a header is part of the protocol rather than custom metadata, so it is not surfaced in
    /// <see cref="Metadata"/> (pseudo-headers, content negotiation, grpc-* reserved names, hop-by-hop).
    /// </summary>
    public static bool IsReservedHeader(string name)
    {
        if (name.Length == 0 || name[0] == ':')
        {
            return true;
        }

        // grpc-* is reserved for the protocol (PROTOCOL-HTTP2.md: "Custom-Metadata ... not starting with grpc-").
        return name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "content-type", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "content-length", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, TeHeader, StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "host", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "connection", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "transfer-encoding", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Maps an HTTP status of a response that carried no <c>grpc-status</c> to a gRPC status code, per
    /// grpc/grpc doc/http-grpc-status-mapping.md.
    /// </summary>
    public static StatusCode MapHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>Parses a <c>grpc-status</c> value; false when it is not a decimal integer.</summary>
    public static bool TryParseStatusCode(string? value, out StatusCode code)
    {
        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            // Codes outside 0..16 are still carried through as their number: a newer peer may define more.
            code = (StatusCode)number;
            return true;
        }

        code = StatusCode.Unknown;
        return false;
    }

    /// <summary>The ASCII text of a status code for <c>grpc-status</c>, without allocating for the 17 known codes.</summary>
    public static string FormatStatusCode(StatusCode code)
    {
        var n = (int)code;
        return (uint)n < (uint)StatusCodeStrings.Length ? StatusCodeStrings[n] : n.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static readonly string[] StatusCodeStrings =
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"];
}
