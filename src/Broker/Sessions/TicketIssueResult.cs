using System.Diagnostics.CodeAnalysis;

namespace Broker.Sessions;

/// <summary>The result of <see cref="TicketService.IssueAsync"/>: a ticket, or why there is none.</summary>
/// <remarks>
/// A class with a hand-written <see cref="ToString"/> rather than a record: a record's generated
/// <c>ToString</c> would print the ticket, and a result passed to a logger must not leak it.
/// </remarks>
public sealed class TicketIssueResult
{
    private TicketIssueResult(TicketIssueStatus status, string? ticket, DateTimeOffset expiresAt, BrokerSession? session)
    {
        Status = status;
        Ticket = ticket;
        ExpiresAt = expiresAt;
        Session = session;
    }

    /// <summary>Whether a ticket was issued, or why not.</summary>
    public TicketIssueStatus Status { get; }

    /// <summary>Whether <see cref="Status"/> is <see cref="TicketIssueStatus.Issued"/>.</summary>
    [MemberNotNullWhen(true, nameof(Ticket), nameof(Session))]
    public bool Succeeded => Status == TicketIssueStatus.Issued;

    /// <summary>The ticket text (43 characters of <c>[A-Za-z0-9_-]</c>) when issued; a secret: never log it.</summary>
    public string? Ticket { get; }

    /// <summary>When the ticket expires (UTC); default when none was issued.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The session the ticket is for, as it stands after any user binding; <see langword="null"/> when none was issued.</summary>
    public BrokerSession? Session { get; }

    internal static TicketIssueResult Issued(string ticket, DateTimeOffset expiresAt, BrokerSession session) =>
        new(TicketIssueStatus.Issued, ticket, expiresAt, session);

    internal static TicketIssueResult Failed(TicketIssueStatus status) => new(status, null, default, null);

    /// <summary>Describes the result without the ticket text.</summary>
    public override string ToString() =>
        Succeeded ? $"Issued for session {Session.SessionId}, expires {ExpiresAt:O}" : Status.ToString();
}
