using System.Security.Cryptography;

namespace EventSourcedRegistry.Artifacts;

/// <summary>
/// Reads an upload chunk by chunk, hashing and counting as the bytes flow, so a store never needs the whole
/// content in memory and knows its digest the moment the last byte arrives.
/// </summary>
internal sealed class ContentHasher(long? maxBytes) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Length { get; private set; }

    /// <summary>True once the content passed the size limit: the caller stops and keeps nothing.</summary>
    public bool TooLarge => maxBytes is { } max && Length > max;

    /// <summary>
    /// Fills <paramref name="buffer"/> from <paramref name="source"/> as far as it goes; 0 at the end of the content.
    /// Each chunk is hashed the moment it arrives, while it is still in the CPU's cache, into the content's SHA-256
    /// and into <paramref name="blockHash"/> if one is given (a checksum of just this buffer's bytes).
    /// </summary>
    public async Task<int> FillAsync(Stream source, Memory<byte> buffer, CancellationToken ct, IncrementalHash? blockHash = null)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await source.ReadAsync(buffer[filled..], ct);
            if (read == 0) break;
            var chunk = buffer.Span.Slice(filled, read);
            _hash.AppendData(chunk);
            blockHash?.AppendData(chunk);
            filled += read;
            if (maxBytes is { } max && Length + filled > max) break;
        }
        Length += filled;
        return filled;
    }

    /// <summary>Hashes the rest of the content without keeping it (the bytes are already stored).</summary>
    public async Task DrainAsync(Stream source, Memory<byte> buffer, CancellationToken ct)
    {
        while (!TooLarge && await FillAsync(source, buffer, ct) > 0)
        {
        }
    }

    public string Sha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    /// <summary>The outcome for content that was read to its end (or to the limit) and not yet placed.</summary>
    public ArtifactPutResult? Refusal(ArtifactPutOptions options)
    {
        if (TooLarge) return new ArtifactPutResult(ArtifactPutOutcome.TooLarge, "", Length);
        var sha256 = Sha256();
        return options.ExpectedSha256 is { } expected && expected != sha256
            ? new ArtifactPutResult(ArtifactPutOutcome.DigestMismatch, sha256, Length)
            : null;
    }

    public void Dispose() => _hash.Dispose();
}
