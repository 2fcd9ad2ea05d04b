namespace Broker.Diagnostics;

/// <summary>
/// A traced publication's context, held by reference so an untraced publication pays one null field
/// (8 bytes) instead of an inline <see cref="System.Diagnostics.ActivityContext"/>.
/// </summary>
/// <param name="Context">The <c>publish</c> activity's context.</param>
public sealed record TraceLink(System.Diagnostics.ActivityContext Context);
