using System.Buffers;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// The frames of one outgoing WebSocket message, joined by <c>\n</c> (PROTOCOL.md lets the server
/// coalesce), in a pooled buffer that is returned after the send so an idle socket holds none.
/// </summary>
internal struct FrameBatch : IDisposable
{
    private byte[]? _buffer;
    private int _length;

    public readonly int Length => _length;

    public readonly ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public void Append(ReadOnlySpan<byte> frame)
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

    public void Clear() => _length = 0;

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _length = 0;
        }
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
