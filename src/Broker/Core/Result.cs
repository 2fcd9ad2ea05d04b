using System.Diagnostics.CodeAnalysis;

namespace Broker.Core;

/// <summary>What a core request gives back: a value, or the <see cref="BrokerError"/> that refused it.</summary>
/// <typeparam name="T">The value of a request that succeeded.</typeparam>
public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, BrokerError? error)
    {
        _value = value;
        Error = error;
    }

    /// <summary>The refusal, or null when the request succeeded.</summary>
    public BrokerError? Error { get; }

    /// <summary>The value; only meaningful when <see cref="Error"/> is null.</summary>
    public T Value => _value!;

    /// <summary>True when the request succeeded, with its value.</summary>
    public bool TryGetValue([MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out BrokerError? error)
    {
        value = _value;
        error = Error;
        return error is null;
    }

    /// <summary>A success.</summary>
    [SuppressMessage("Usage", "CA2225", Justification = "Result<T>.Ok is the named alternate.")]
    public static implicit operator Result<T>(T value) => new(value, null);

    /// <summary>A refusal.</summary>
    [SuppressMessage("Usage", "CA2225", Justification = "Result<T>.Fail is the named alternate.")]
    public static implicit operator Result<T>(BrokerError error) => new(default, error);

    /// <summary>A success.</summary>
    public static Result<T> Ok(T value) => new(value, null);

    /// <summary>A refusal.</summary>
    public static Result<T> Fail(BrokerError error) => new(default, error);
}
