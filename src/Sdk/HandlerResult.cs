using System.Text.Json;
using Broker.Sdk.Internal;

namespace Broker.Sdk;

/// <summary>
/// A handler's answer to a <c>send</c>: data for the browser's <c>reply</c>, or an error code and message for its
/// <c>error</c> frame.
/// </summary>
public sealed class HandlerResult
{
    // The reply's data must be one JSON value; an Ok without data answers `null`.
    private static readonly byte[] JsonNull = "null"u8.ToArray();

    private HandlerResult(ReadOnlyMemory<byte> data, string? errorCode, string? errorMessage)
    {
        Data = data;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    /// <summary>The reply's data (UTF-8 JSON); empty for an error.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The error code (e.g. <c>bad_request</c>), or null for success.</summary>
    public string? ErrorCode { get; }

    /// <summary>The error text the browser sees, or null.</summary>
    public string? ErrorMessage { get; }

    /// <summary>True for an error result.</summary>
    public bool IsError => ErrorCode is not null;

    /// <summary>Success with raw UTF-8 JSON data (<c>null</c> when empty).</summary>
    public static HandlerResult Ok(ReadOnlyMemory<byte> json) => new(json.IsEmpty ? JsonNull : json, null, null);

    /// <summary>Success with <c>null</c> data.</summary>
    public static HandlerResult Ok() => new(JsonNull, null, null);

    /// <summary>Success with <paramref name="value"/> serialized by System.Text.Json (default: <see cref="JsonSerializerDefaults.Web"/>).</summary>
    public static HandlerResult Json<T>(T value, JsonSerializerOptions? options = null) =>
        new(JsonSerializer.SerializeToUtf8Bytes(value, options ?? JsonDefaults.Web), null, null);

    /// <summary>An error: the browser gets <c>{"type":"error","code":errorCode,"message":message}</c>.</summary>
    /// <param name="errorCode">One of PROTOCOL.md's codes (<c>bad_request</c>, <c>forbidden</c>, <c>not_found</c> …) or your own.</param>
    /// <param name="message">Text the page may show.</param>
    public static HandlerResult Error(string errorCode, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorCode);
        return new(ReadOnlyMemory<byte>.Empty, errorCode, message ?? string.Empty);
    }
}
