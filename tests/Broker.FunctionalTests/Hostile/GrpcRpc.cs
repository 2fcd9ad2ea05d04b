namespace Broker.FunctionalTests.Hostile;

/// <summary>The RPCs of <c>broker.v1.Broker</c>, as the gRPC fuzz picks them.</summary>
public enum GrpcRpc
{
    Publish,
    PublishStream,
    Subscribe,
    Handle,

    /// <summary><c>Handle</c> after a valid registration: the fuzzed message is the stream's second, where replies go.</summary>
    HandleReply,
    IssueTicket,
    Disconnect,
    History,
    Presence,
}
