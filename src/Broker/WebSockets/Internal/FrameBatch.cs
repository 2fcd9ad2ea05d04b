using System.Buffers;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// The frames of one outgoing WebSocket message, joined by <c>\n</c> (PROTOCOL.md lets the server
/// coalesce), in a pooled buffer that is returned after the send so an idle socket holds none.
/// </summary>
/// <remarks>
/// A batch of one frame is not copied: it is sent from the frame's own bytes (a publication's encoding, shared by
/// every subscriber, or a reply's). At paced rates nearly every message is one frame, and the rent, copy and return
/// of a 16 KiB pooled buffer were work for nothing there; the buffer is rented when a second frame arrives.
/// </remarks>
internal struct FrameBatch : IDisposable
{
    private byte[]? _single;
    private byte[]? _buffer;
    private int _length;

    public readonly int Length => _length;

    public readonly ReadOnlyMemory<byte> Memory => _single ?? _buffer.AsMemory(0, _length);

    public void Append(byte[] frame)
    {
        if (_single is null && _buffer is null)
        {
            _single = frame;
            _length = frame.Length;
            return;
        }

        if (_single is { } first)
        {
            _single = null;
            _length = 0;
            Copy(first);
        }

        Copy(frame);
    }

    public void Dispose()
    {
        _single = null;
        _length = 0;
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private void Copy(ReadOnlySpan<byte> frame)
    {
        int needed = _length + frame.Length + 1;
        if (_buffer is null || needed > _buffer.Length)
        {
            Grow(needed);
        }

        if (_length > 0)
        {
            _buffer![_length++] = (byte)'\n';
        }

        frame.CopyTo(_buffer.AsSpan(_length));
        _length += frame.Length;
    }

    private void Grow(int needed)
    {
        // 16 KiB first: room for a hundred typical frames, one pool bucket, no growth in the common case.
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(16 * 1024, (_buffer?.Length ?? 0) * 2)));
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
    }
}
