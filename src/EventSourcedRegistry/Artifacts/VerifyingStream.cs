using System.Security.Cryptography;

namespace EventSourcedRegistry.Artifacts;

/// <summary>Stored bytes that do not hash to the digest they are stored under.</summary>
public sealed class ArtifactCorruptedException(string sha256, string actualSha256, long expectedBytes, long actualBytes)
    : IOException($"Artifact {sha256} is corrupted: its stored bytes ({actualBytes} of {expectedBytes} expected) hash to {actualSha256}.")
{
    public string Sha256 { get; } = sha256;
    public string ActualSha256 { get; } = actualSha256;
}

/// <summary>
/// Passes a whole stored artifact through while hashing it, and throws <see cref="ArtifactCorruptedException"/>
/// instead of reporting the end when the bytes do not match their digest and size. A reader that hands on
/// each chunk only after the next read succeeded therefore never delivers all of a corrupted artifact.
/// </summary>
public sealed class VerifyingStream(Stream inner, string sha256, long expectedBytes) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _verified;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expectedBytes;
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await inner.ReadAsync(buffer, ct);
        return Account(buffer.Span[..n]);
    }

    private int Account(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length > 0)
        {
            _hash.AppendData(chunk);
            _read += chunk.Length;
            if (_read <= expectedBytes) return chunk.Length;
        }
        else if (_verified)
        {
            return 0;
        }

        var actual = Convert.ToHexStringLower(_hash.GetCurrentHash());
        if (_read != expectedBytes || actual != sha256) throw new ArtifactCorruptedException(sha256, actual, expectedBytes, _read);
        _verified = true;
        return 0;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        _hash.Dispose();
        await base.DisposeAsync();
    }
}
