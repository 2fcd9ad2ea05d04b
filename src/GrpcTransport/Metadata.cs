using System.Collections;

namespace Broker.GrpcTransport;

/// <summary>
/// Custom call metadata (request headers, response headers, trailers), as Grpc.Core's <c>Metadata</c>:
/// an ordered list of entries whose keys are lower-case ASCII; keys ending in <c>-bin</c> carry binary
/// values (base64 on the wire), every other key an ASCII string value.
/// </summary>
public sealed class Metadata : IList<Metadata.Entry>
{
    /// <summary>The suffix that marks a binary-valued key.</summary>
    public const string BinaryHeaderSuffix = "-bin";

    /// <summary>An empty, read-only instance.</summary>
    public static readonly Metadata Empty = new() { _readOnly = true };

    private readonly List<Entry> _entries = [];
    private bool _readOnly;

    /// <summary>The number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>Whether the instance refuses changes.</summary>
    public bool IsReadOnly => _readOnly;

    /// <inheritdoc />
    public Entry this[int index]
    {
        get => _entries[index];
        set
        {
            ThrowIfReadOnly();
            _entries[index] = value;
        }
    }

    /// <summary>Adds a string-valued entry.</summary>
    public void Add(string key, string value) => Add(new Entry(key, value));

    /// <summary>Adds a binary-valued entry; the key must end in <c>-bin</c>.</summary>
    public void Add(string key, byte[] valueBytes) => Add(new Entry(key, valueBytes));

    /// <inheritdoc />
    public void Add(Entry item)
    {
        ArgumentNullException.ThrowIfNull(item);
        ThrowIfReadOnly();
        _entries.Add(item);
    }

    /// <summary>The last entry with the key (case-insensitive), or null.</summary>
    public Entry? Get(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_entries[i].Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return _entries[i];
            }
        }

        return null;
    }

    /// <summary>The string value of the last entry with the key, or null.</summary>
    public string? GetValue(string key) => Get(key)?.Value;

    /// <summary>The bytes of the last binary entry with the key, or null.</summary>
    public byte[]? GetValueBytes(string key) => Get(key)?.ValueBytes;

    /// <inheritdoc />
    public void Clear()
    {
        ThrowIfReadOnly();
        _entries.Clear();
    }

    /// <inheritdoc />
    public bool Contains(Entry item) => _entries.Contains(item);

    /// <inheritdoc />
    public void CopyTo(Entry[] array, int arrayIndex) => _entries.CopyTo(array, arrayIndex);

    /// <summary>Enumerates the entries without allocating.</summary>
    public List<Entry>.Enumerator GetEnumerator() => _entries.GetEnumerator();

    IEnumerator<Entry> IEnumerable<Entry>.GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    /// <inheritdoc />
    public int IndexOf(Entry item) => _entries.IndexOf(item);

    /// <inheritdoc />
    public void Insert(int index, Entry item)
    {
        ArgumentNullException.ThrowIfNull(item);
        ThrowIfReadOnly();
        _entries.Insert(index, item);
    }

    /// <inheritdoc />
    public bool Remove(Entry item)
    {
        ThrowIfReadOnly();
        return _entries.Remove(item);
    }

    /// <inheritdoc />
    public void RemoveAt(int index)
    {
        ThrowIfReadOnly();
        _entries.RemoveAt(index);
    }

    private void ThrowIfReadOnly()
    {
        if (_readOnly)
        {
            throw new InvalidOperationException("Metadata is read-only.");
        }
    }

    /// <summary>One metadata entry: a lower-case key and a string or binary value.</summary>
    public sealed class Entry
    {
        private readonly string? _value;
        private readonly byte[]? _valueBytes;

        /// <summary>Creates a string-valued entry.</summary>
        public Entry(string key, string value)
        {
            Key = NormalizeKey(key);
            if (IsBinaryKey(Key))
            {
                throw new ArgumentException("A key ending in -bin needs a binary value.", nameof(key));
            }

            ArgumentNullException.ThrowIfNull(value);
            foreach (var c in value)
            {
                // ASCII-Value in PROTOCOL-HTTP2.md: printable ASCII only; anything else goes in a -bin key.
                if (c is < ' ' or > '~')
                {
                    throw new ArgumentException($"Metadata value of '{key}' must be printable ASCII; use a -bin key for other data.", nameof(value));
                }
            }

            _value = value;
        }

        /// <summary>Creates a binary-valued entry; the key must end in <c>-bin</c>.</summary>
        public Entry(string key, byte[] valueBytes)
        {
            Key = NormalizeKey(key);
            if (!IsBinaryKey(Key))
            {
                throw new ArgumentException("A binary value needs a key ending in -bin.", nameof(key));
            }

            ArgumentNullException.ThrowIfNull(valueBytes);
            _valueBytes = valueBytes;
        }

        /// <summary>The key, lower-case.</summary>
        public string Key { get; }

        /// <summary>Whether the value is binary (the key ends in <c>-bin</c>).</summary>
        public bool IsBinary => _valueBytes is not null;

        /// <summary>The string value; throws for a binary entry.</summary>
        public string Value => _value ?? throw new InvalidOperationException("A binary entry has no string value.");

        /// <summary>The binary value; for a string entry, its ASCII bytes.</summary>
        public byte[] ValueBytes => _valueBytes ?? System.Text.Encoding.ASCII.GetBytes(_value!);

        /// <inheritdoc />
        public override string ToString() => IsBinary ? $"{Key}: <{_valueBytes!.Length} bytes>" : $"{Key}: {_value}";

        /// <summary>Whether a key names a binary header.</summary>
        public static bool IsBinaryKey(string key) => key.EndsWith(BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase);

        private static string NormalizeKey(string key)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            // HTTP/2 header names are lower-case on the wire (RFC 9113 8.2.1); gRPC allows 0-9 a-z _ - . only.
            foreach (var c in key)
            {
                var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.';
                if (!ok)
                {
                    throw new ArgumentException($"Metadata key '{key}' has a character gRPC does not allow.", nameof(key));
                }
            }

            return key.ToLowerInvariant();
        }
    }
}
