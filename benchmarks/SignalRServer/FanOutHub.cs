using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace SignalRServer;

/// <summary>Groups as channels: <c>Join(group)</c> subscribes the caller, <c>Publish(group, payload)</c> fans out.</summary>
public sealed class FanOutHub : Hub
{
    /// <summary>Adds the caller to <paramref name="group"/>.</summary>
    public Task Join(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);

    /// <summary>Sends <paramref name="payload"/> (any JSON value, sent as it came) to every member of <paramref name="group"/> as <c>m</c>.</summary>
    public Task Publish(string group, JsonElement payload) => Clients.Group(group).SendAsync("m", payload);
}
