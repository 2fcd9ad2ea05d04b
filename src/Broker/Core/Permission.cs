namespace Broker.Core;

/// <summary>Who may subscribe to, or publish on, a namespace's channels from a browser.</summary>
public enum Permission
{
    /// <summary>No browser may.</summary>
    None,

    /// <summary>A browser whose session has a user.</summary>
    Authenticated,

    /// <summary>Any browser, anonymous sessions included.</summary>
    Anyone,
}
