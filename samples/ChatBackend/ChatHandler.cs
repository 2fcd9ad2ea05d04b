using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Broker.Sdk;

namespace ChatBackend;

/// <summary>
/// The chat backend's logic: validates a <c>chat.post</c> from the page, publishes it to <c>chat:&lt;room&gt;</c>
/// as event <c>message</c>, replies <c>{"ok":true}</c>, and greets each user on their first post through their
/// personal channel (<c>$user:&lt;userId&gt;</c>, event <c>notice</c>).
/// </summary>
public sealed partial class ChatHandler
{
    /// <summary>The handler group: run several copies of the backend and the broker shares the posts among them.</summary>
    public const string Group = "chat-backend";

    /// <summary>The <c>send</c> event the demo page posts with.</summary>
    public const string PostEvent = "chat.post";

    /// <summary>The longest message, in characters (Unicode scalar values), after trimming.</summary>
    public const int MaxTextLength = 500;

    // Greeted users are remembered in memory only; past this many the set starts over (a repeat greeting is harmless).
    private const int MaxGreeted = 100_000;

    private readonly BrokerClient _client;
    private readonly ConcurrentDictionary<string, byte> _greeted = new(StringComparer.Ordinal);

    /// <summary>Creates the handler on a client.</summary>
    public ChatHandler(BrokerClient client) => _client = client;

    /// <summary>Handles <c>chat.post</c> until <paramref name="cancellationToken"/> is cancelled, reconnecting as needed.</summary>
    /// <param name="options">Concurrency and callbacks, or null for the defaults.</param>
    /// <param name="cancellationToken">Stops the handler.</param>
    public Task RunAsync(HandlerOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.HandleAsync(Group, [PostEvent], HandleAsync, options ?? new HandlerOptions(), cancellationToken);

    /// <summary>Handles one <c>send</c>.</summary>
    public async ValueTask<HandlerResult> HandleAsync(HandlerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Event != PostEvent)
        {
            return HandlerResult.Error("bad_request", $"Unknown event '{context.Event}'.");
        }

        if (string.IsNullOrEmpty(context.From.UserId))
        {
            return HandlerResult.Error("unauthorized", "Sign in to post.");
        }

        Post? post;
        try
        {
            post = JsonSerializer.Deserialize(context.Data.Span, ChatJsonContext.Default.Post);
        }
        catch (JsonException)
        {
            post = null;
        }

        if (post?.Room is not { } room || !RoomPattern().IsMatch(room))
        {
            return HandlerResult.Error("bad_request", "Pick a room: 1-32 letters, digits, '_' or '-'.");
        }

        var text = post.Text?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            return HandlerResult.Error("bad_request", "Write something first.");
        }

        if (CountCharacters(text) > MaxTextLength)
        {
            return HandlerResult.Error("bad_request", $"Keep it under {MaxTextLength} characters.");
        }

        var user = context.From.UserId;
        // An idempotency key from the broker's inbound id: if the broker redelivers this post to us after a
        // dropped stream, the room still gets it once.
        var key = $"chat.post:{context.From.ConnectionId}:{context.InboundId}";
        await _client.PublishAsync(
            "chat:" + room,
            JsonSerializer.SerializeToUtf8Bytes(new Message(text, user), ChatJsonContext.Default.Message),
            "message",
            key,
            cancellationToken).ConfigureAwait(false);

        if (_greeted.TryAdd(user, 0))
        {
            if (_greeted.Count > MaxGreeted)
            {
                _greeted.Clear();
            }

            await _client.PublishAsync(
                "$user:" + user,
                JsonSerializer.SerializeToUtf8Bytes(new Notice($"Welcome, {user}!"), ChatJsonContext.Default.Notice),
                "notice",
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return HandlerResult.Ok("{\"ok\":true}"u8.ToArray());
    }

    private static int CountCharacters(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex RoomPattern();

    /// <summary>The page's <c>send</c> data.</summary>
    internal sealed record Post(string? Room, string? Text);

    /// <summary>What the room sees.</summary>
    internal sealed record Message(string Text, string User);

    /// <summary>What a user's personal channel gets.</summary>
    internal sealed record Notice(string Text);
}
