using System.Security.Cryptography;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Reproducible pseudo-random bytes, produced as they are read: large artifacts without large arrays.</summary>
public sealed class SeededContentStream(int seed, long length) : Stream
{
    private const int BlockSize = 64 * 1024;
    private readonly Random _random = new(seed);
    private readonly byte[] _block = new byte[BlockSize];
    private int _blockOffset = BlockSize;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        var written = 0;
        while (written < count)
        {
            // Whole blocks keep the byte sequence independent of how callers slice their reads.
            if (_blockOffset == BlockSize)
            {
                _random.NextBytes(_block);
                _blockOffset = 0;
            }
            var n = Math.Min(count - written, BlockSize - _blockOffset);
            _block.AsSpan(_blockOffset, n).CopyTo(buffer[written..]);
            _blockOffset += n;
            written += n;
        }
        _position += written;
        return written;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

public static class TestContent
{
    public static byte[] Bytes(int seed, int length)
    {
        var bytes = new byte[length];
        new SeededContentStream(seed, length).ReadExactly(bytes);
        return bytes;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static async Task<string> Sha256(Stream stream) => Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));

    /// <summary>Path-traversal and path-smuggling payloads: none may ever become part of a storage path.</summary>
    public static IReadOnlyList<string> TraversalPayloads { get; } =
    [
        "../../../../etc/passwd",
        "..%2f..%2f..%2fetc%2fpasswd",
        "..%2F..%2Fsha256%2F" + new string('a', 64),
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        "..%252f..%252fetc%252fpasswd",
        "..\\..\\..\\windows\\win.ini",
        "..%5c..%5cwindows%5cwin.ini",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "C:\\Windows\\win.ini",
        "\\\\server\\share\\file",
        "sha256/../../escape",
        new string('a', 63) + "#",
        new string('a', 32) + "%00" + new string('a', 31),
        new string('a', 32) + "\0" + new string('a', 31),
        new string('a', 64) + "/../../x",
        "....//....//etc/passwd",
        "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        "staging/x",
        new string('A', 300),
        string.Concat(Enumerable.Repeat("../", 400)) + "etc/passwd",
    ];
}
