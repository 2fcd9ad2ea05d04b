using System.Diagnostics;
using Microsoft.Extensions.Primitives;

namespace Broker.Diagnostics;

/// <summary>
/// The broker's <see cref="ActivitySource"/> and the two things it does with request activities:
/// continues a backend's <c>traceparent</c> into the publication it makes, and ends the HTTP request's
/// activity of a long-lived connection as soon as the connection is established.
/// </summary>
public static class BrokerTracing
{
    /// <summary>The activity source every broker activity comes from.</summary>
    public const string SourceName = "Broker";

    /// <summary>The source; <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null (and costs a check) with no listener.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts the activity around one publish, a child of the caller's trace: of the request's activity
    /// when ASP.NET Core made one (it reads <c>traceparent</c> itself), else of the <c>traceparent</c> header.
    /// Null when nobody listens. Per publication, never per delivery.
    /// </summary>
    public static Activity? StartPublish(string channel, HttpContext? http)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity;
        if (Activity.Current is null && http is not null
            && http.Request.Headers.TryGetValue("traceparent", out StringValues traceparent)
            && ActivityContext.TryParse(traceparent.ToString(), http.Request.Headers["tracestate"].ToString(), isRemote: true, out var parent))
        {
            activity = Source.StartActivity("publish", ActivityKind.Producer, parent);
        }
        else
        {
            activity = Source.StartActivity("publish", ActivityKind.Producer);
        }

        activity?.SetTag("messaging.system", "broker");
        activity?.SetTag("messaging.destination.name", channel);
        return activity;
    }

    /// <summary>
    /// Starts a <c>deliver</c> activity around one written batch (a WebSocket message, a gRPC flush), linked
    /// to the <c>publish</c> of the batch's first traced publication (its <paramref name="trace"/>, on
    /// <paramref name="channel"/>). Per batch, never per delivery; null (and nothing allocated) when nobody
    /// listens or the publication was not traced.
    /// </summary>
    public static Activity? StartDeliver(TraceLink? trace, string? channel, string transport)
    {
        if (trace is null || !Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity("deliver", ActivityKind.Consumer, parentContext: default, links: [new ActivityLink(trace.Context)]);
        activity?.SetTag("messaging.system", "broker");
        activity?.SetTag("messaging.destination.name", channel);
        activity?.SetTag("broker.transport", transport);
        return activity;
    }

    /// <summary>
    /// Ends the current HTTP request's activity when its connection turns long-lived (a WebSocket, a
    /// streaming gRPC call): the request span then covers the handshake, and the hours the connection
    /// lives do not hang under it (nor does every later activity of the connection become its child).
    /// ASP.NET Core stops it again when the request ends; a second stop does nothing.
    /// </summary>
    public static void DetachLongLivedRequest()
    {
        if (Activity.Current is { } request)
        {
            request.Stop();
            Activity.Current = null;
        }
    }
}
