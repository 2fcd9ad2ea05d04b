using System.Globalization;

namespace Broker.GrpcTransport;

/// <summary>The outcome of a call: a <see cref="StatusCode"/> and an optional human-readable detail.</summary>
public readonly struct Status : IEquatable<Status>
{
    /// <summary>The status of a successful call.</summary>
    public static readonly Status DefaultSuccess = new(StatusCode.OK, string.Empty);

    /// <summary>The status of a call cancelled by its caller.</summary>
    public static readonly Status DefaultCancelled = new(StatusCode.Cancelled, string.Empty);

    /// <summary>Creates a status.</summary>
    /// <param name="statusCode">The code.</param>
    /// <param name="detail">The detail text; sent percent-encoded in <c>grpc-message</c>.</param>
    public Status(StatusCode statusCode, string detail)
    {
        StatusCode = statusCode;
        _detail = detail;
    }

    // Nullable because default(Status) never ran the constructor.
    private readonly string? _detail;

    /// <summary>The status code.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The detail text; never null (a default <see cref="Status"/> has an empty detail).</summary>
    public string Detail => _detail ?? string.Empty;

    /// <inheritdoc />
    public bool Equals(Status other) => StatusCode == other.StatusCode && string.Equals(Detail, other.Detail, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Status other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(StatusCode, Detail);

    /// <summary>Compares two statuses by code and detail.</summary>
    public static bool operator ==(Status left, Status right) => left.Equals(right);

    /// <summary>Compares two statuses by code and detail.</summary>
    public static bool operator !=(Status left, Status right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Status(StatusCode=\"{StatusCode}\", Detail=\"{Detail}\")");
}
