using System.Runtime.CompilerServices;
using Grpc.Core;
using Broker.Sdk.Internal;
using Broker.V1;

namespace Broker.Sdk;

public sealed partial class BrokerClient
{
    /// <summary>
    /// Subscribes to channels named exactly or by prefix (<c>chat:*</c>) and yields their publications, resuming
    /// across dropped connections.
    /// </summary>
    /// <remarks>
    /// <para>When the stream fails with UNAVAILABLE (broker draining or unreachable) or the connection drops, the
    /// subscription reconnects with jittered exponential backoff (<see cref="BrokerClientOptions.ReconnectMinBackoff"/>
    /// to <see cref="BrokerClientOptions.ReconnectMaxBackoff"/>) and asks each exact channel for the publications after
    /// the last one it yielded: you see no gap and no duplicate (duplicates by offset are dropped). When the broker
    /// cannot recover a channel (history too short, a new epoch after a restart), <see cref="SubscribeOptions.OnSubscribed"/>
    /// reports <c>Recovered: false</c>, <see cref="ChannelSubscribed.MayHaveLostPublications"/>: reload that state.
    /// Prefix entries resubscribe without position. Lagged notices go to <see cref="SubscribeOptions.OnLagged"/>.</para>
    /// <para>Other failures (UNAUTHENTICATED, INVALID_ARGUMENT …) end the enumeration with <see cref="BrokerException"/>;
    /// cancelling the token ends it with <see cref="OperationCanceledException"/>.</para>
    /// </remarks>
    /// <param name="channels">Exact channel names, or prefixes ending in <c>*</c>.</param>
    /// <param name="since">Resume exact channels after these positions (e.g. saved from <see cref="Publication.Position"/>), or null.</param>
    /// <param name="options">Callbacks and the broker-side buffer, or null.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    public async IAsyncEnumerable<Publication> SubscribeAsync(
        IEnumerable<string> channels,
        IReadOnlyDictionary<string, StreamPosition>? since = null,
        SubscribeOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var state = new SubscriptionState(channels, since);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        var token = linked.Token;
        var attempt = 0;
        var resubscribed = false;
        while (true)
        {
            Exception? failure;
            using (var call = _invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, StreamOptions(token), state.BuildRequest(options?.Buffer ?? 0)))
            {
                while (true)
                {
                    // No token per read: the call was started with `token`, so cancelling it cancels the call (and this
                    // read) already, and a cancellable read would link a new token source for every batch it waits for.
                    // Most reads are served from the read-ahead buffer and complete at once: take those without the
                    // wrapper's state machine and tuple (see ReadAsync), one per delivery otherwise.
                    var moveNext = call.ResponseStream.MoveNext(CancellationToken.None);
                    var next = moveNext.IsCompletedSuccessfully
                        ? (moveNext.Result ? call.ResponseStream.Current : null, null)
                        : await ReadAsync(moveNext, call.ResponseStream).ConfigureAwait(false);
                    if (next.Failure is not null || next.Message is null)
                    {
                        // An OK end is the broker closing the stream (it should not): reconnect as after a drop.
                        failure = next.Failure;
                        break;
                    }

                    var delivery = next.Message;
                    switch (delivery.KindCase)
                    {
                        case Delivery.KindOneofCase.Publication:
                            if (state.Accept(delivery.Publication))
                            {
                                yield return Publication.FromProto(delivery.Publication);
                            }

                            break;
                        case Delivery.KindOneofCase.Subscribed:
                            // The broker took us back: the next failure starts the backoff from the bottom again.
                            attempt = 0;
                            var subscribed = state.OnSubscribed(delivery.Subscribed, resubscribed);
                            options?.OnSubscribed?.Invoke(subscribed);
                            break;
                        case Delivery.KindOneofCase.Lagged:
                            var lagged = delivery.Lagged;
                            options?.OnLagged?.Invoke(new ChannelLagged(
                                lagged.Channel,
                                lagged.Dropped,
                                lagged.Position is { } p ? new StreamPosition(p.Epoch, p.Offset) : null));
                            break;
                    }
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The subscription was cancelled.", failure, cancellationToken);
            }

            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (failure is not null && !IsTransient(failure))
            {
                throw failure is RpcException rpc ? BrokerException.FromRpc(rpc) : failure;
            }

            var delay = Backoff.Delay(attempt++, Options.ReconnectMinBackoff, Options.ReconnectMaxBackoff);
            BrokerClientLog.SubscriptionReconnecting(Logger, state.Channels, delay, failure);
            options?.OnReconnecting?.Invoke(failure ?? new BrokerException(StatusCode.OK, null, "The broker ended the subscription."), delay);
            await Task.Delay(delay, token).ConfigureAwait(false);
            resubscribed = true;
        }
    }

    /// <summary>Subscribes with no resume positions and no callbacks; see the main overload.</summary>
    public IAsyncEnumerable<Publication> SubscribeAsync(IEnumerable<string> channels, CancellationToken cancellationToken) =>
        SubscribeAsync(channels, null, null, cancellationToken);

    /// <summary>Waits for a read without throwing: an iterator cannot yield inside a try with a catch.</summary>
    private static async ValueTask<(T? Message, Exception? Failure)> ReadAsync<T>(Task<bool> moveNext, IAsyncStreamReader<T> reader)
        where T : class
    {
        try
        {
            return await moveNext.ConfigureAwait(false) ? (reader.Current, null) : (null, null);
        }
        catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or OperationCanceledException)
        {
            return (null, ex);
        }
    }
}
