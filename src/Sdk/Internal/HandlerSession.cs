using Grpc.Core;
using Broker.V1;

namespace Broker.Sdk.Internal;

/// <summary>
/// One life of a <c>Handle</c> stream: registers, reads <c>Inbound</c>s, runs the handler on each with bounded
/// concurrency and writes the replies (one writer at a time: the request stream refuses concurrent writes).
/// </summary>
internal sealed class HandlerSession : IDisposable
{
    private readonly BrokerClient _client;
    private readonly HandlerRegistration _registration;
    private readonly Func<HandlerContext, CancellationToken, ValueTask<HandlerResult>> _handler;
    private readonly HandlerOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly HashSet<Task> _running = [];
    private readonly Lock _lock = new();

    public HandlerSession(BrokerClient client, HandlerRegistration registration, Func<HandlerContext, CancellationToken, ValueTask<HandlerResult>> handler, HandlerOptions options)
    {
        _client = client;
        _registration = registration;
        _handler = handler;
        _options = options;
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
    }

    /// <summary>Runs until the stream ends or <paramref name="stopping"/> fires; returns the failure, if any.</summary>
    public async Task<Exception?> RunAsync(Action onRegistered, CancellationToken stopping)
    {
        // Ends the call and every running handler: on stop, or when this stream is over.
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var call = _client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, _client.StreamOptions(streamCts.Token));
        Exception? failure = null;
        try
        {
            await call.RequestStream.WriteAsync(new HandlerMessage { Register = _registration }, streamCts.Token).ConfigureAwait(false);
            var handlerId = string.Empty;
            while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                var message = call.ResponseStream.Current;
                switch (message.KindCase)
                {
                    case HandlerEvent.KindOneofCase.Registered:
                        handlerId = message.Registered.HandlerId;
                        BrokerClientLog.HandlerRegistered(_client.Logger, handlerId, _registration.Group);
                        onRegistered();
                        _options.OnRegistered?.Invoke(handlerId);
                        break;
                    case HandlerEvent.KindOneofCase.Inbound:
                        // Waits when MaxConcurrency handlers run; the broker, told max_in_flight, should not send more anyway.
                        await _slots.WaitAsync(streamCts.Token).ConfigureAwait(false);
                        Start(call, message.Inbound, handlerId, streamCts.Token);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
        {
            failure = ex;
        }
        finally
        {
            // The stream is over: the broker redelivers what is in flight, so running handlers stop now.
            await streamCts.CancelAsync().ConfigureAwait(false);
            Task[] running;
            lock (_lock)
            {
                running = [.. _running];
            }

            await Task.WhenAll(running).ConfigureAwait(false);
            call.Dispose();
        }

        return failure;
    }

    /// <summary>Releases the semaphores; call after <see cref="RunAsync"/> returned (every handler has ended then).</summary>
    public void Dispose()
    {
        _slots.Dispose();
        _writeLock.Dispose();
    }

    private void Start(AsyncDuplexStreamingCall<HandlerMessage, HandlerEvent> call, Inbound inbound, string handlerId, CancellationToken streamToken)
    {
        var task = Task.Run(() => HandleOneAsync(call, inbound, handlerId, streamToken), CancellationToken.None);
        lock (_lock)
        {
            _running.Add(task);
        }

        _ = task.ContinueWith(
            static (t, state) =>
            {
                var session = (HandlerSession)state!;
                lock (session._lock)
                {
                    session._running.Remove(t);
                }
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task HandleOneAsync(AsyncDuplexStreamingCall<HandlerMessage, HandlerEvent> call, Inbound inbound, string handlerId, CancellationToken streamToken)
    {
        try
        {
            var deadline = inbound.DeadlineUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(inbound.DeadlineUnixMs) : DateTimeOffset.MaxValue;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(streamToken);
            if (deadline != DateTimeOffset.MaxValue)
            {
                // Past the deadline the browser already has `timeout`: stop working on it.
                var left = deadline - DateTimeOffset.UtcNow;
                cts.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }

            var context = new HandlerContext(
                inbound.InboundId,
                inbound.Event,
                inbound.Data.Memory,
                ClientInfo.FromProto(inbound.From) ?? new ClientInfo(string.Empty, string.Empty, string.Empty),
                deadline,
                _registration.Group,
                handlerId,
                _client.Options.JsonSerializerOptions);
            HandlerResult result;
            try
            {
                result = await _handler(context, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                // Deadline or stream end: nobody is waiting for this reply any more.
                return;
            }
            catch (BrokerException ex) when (ex.ErrorCode is not null)
            {
                result = HandlerResult.Error(ex.ErrorCode, ex.Message);
            }
            catch (Exception ex)
            {
                BrokerClientLog.HandlerFailed(_client.Logger, inbound.Event, _registration.Group, ex);
                _options.OnHandlerError?.Invoke(context, ex);
                // The exception's text stays here: it may hold internals the browser must not see.
                result = HandlerResult.Error("internal", "The handler failed.");
            }

            if (streamToken.IsCancellationRequested)
            {
                return;
            }

            var reply = new V1.HandlerReply { InboundId = inbound.InboundId };
            if (result.IsError)
            {
                reply.ErrorCode = result.ErrorCode;
                reply.ErrorMessage = result.ErrorMessage ?? string.Empty;
            }
            else
            {
                reply.Data = BrokerClient.Bytes(result.Data);
            }

            await _writeLock.WaitAsync(streamToken).ConfigureAwait(false);
            try
            {
                await call.RequestStream.WriteAsync(new HandlerMessage { Reply = reply }, streamToken).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception ex) when (ex is RpcException or IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // The stream broke under us: the read loop sees it too and reconnects; the broker redelivers this message.
        }
        finally
        {
            _slots.Release();
        }
    }
}
