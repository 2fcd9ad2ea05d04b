using Grpc.Core;
using Broker.Sdk.Internal;
using Broker.V1;

namespace Broker.Sdk;

public sealed partial class BrokerClient
{
    /// <summary>
    /// Handles browser <c>send</c> frames (<c>Handle</c>) until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <remarks>
    /// <para>Registers with the group and events, then runs <paramref name="handler"/> for each message, at most
    /// <see cref="HandlerOptions.MaxConcurrency"/> at once, and sends its <see cref="HandlerResult"/> back. The handler's
    /// token is cancelled at the message's deadline (the browser has had <c>timeout</c> by then, so no reply is sent),
    /// when the stream drops, and when the host stops. A handler that throws is answered <c>internal</c>; one that throws
    /// <see cref="BrokerException"/> with an <see cref="BrokerException.ErrorCode"/> is answered with that code.</para>
    /// <para>When the stream drops (UNAVAILABLE, connection lost), the host reconnects with jittered backoff; the broker
    /// gives the messages that were in flight to another handler of the group. Cancellation ends the stream (the broker
    /// redelivers what was in flight) and the returned Task completes normally, once every running handler has
    /// returned. Other failures (UNAUTHENTICATED, INVALID_ARGUMENT) fault the Task with <see cref="BrokerException"/>.</para>
    /// </remarks>
    /// <param name="group">The handler group: handlers of a group share the work.</param>
    /// <param name="events">Event names, or prefixes ending in <c>*</c> (<c>chat.*</c>).</param>
    /// <param name="handler">Handles one message.</param>
    /// <param name="options">Concurrency and callbacks.</param>
    /// <param name="cancellationToken">Stops the host.</param>
    public async Task HandleAsync(
        string group,
        IEnumerable<string> events,
        Func<HandlerContext, CancellationToken, ValueTask<HandlerResult>> handler,
        HandlerOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrency, 1);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var registration = new HandlerRegistration { Group = group, MaxInFlight = (uint)options.MaxConcurrency };
        registration.Events.Add(events);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        var token = linked.Token;
        var attempt = 0;
        while (!token.IsCancellationRequested)
        {
            Exception? failure;
            using (var session = new HandlerSession(this, registration, handler, options))
            {
                failure = await session.RunAsync(() => attempt = 0, token).ConfigureAwait(false);
            }

            if (token.IsCancellationRequested)
            {
                break;
            }

            if (failure is not null && !IsTransient(failure))
            {
                throw failure is RpcException rpc ? BrokerException.FromRpc(rpc) : failure;
            }

            var delay = Backoff.Delay(attempt++, Options.ReconnectMinBackoff, Options.ReconnectMaxBackoff);
            BrokerClientLog.HandlerReconnecting(Logger, group, delay, failure);
            options.OnReconnecting?.Invoke(failure ?? new BrokerException(StatusCode.OK, null, "The broker ended the handler stream."), delay);
            try
            {
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Handles browser <c>send</c> frames with <paramref name="maxConcurrency"/> at once; see the main overload.</summary>
    public Task HandleAsync(
        string group,
        IEnumerable<string> events,
        Func<HandlerContext, CancellationToken, ValueTask<HandlerResult>> handler,
        int maxConcurrency = 16,
        CancellationToken cancellationToken = default) =>
        HandleAsync(group, events, handler, new HandlerOptions { MaxConcurrency = maxConcurrency }, cancellationToken);
}
