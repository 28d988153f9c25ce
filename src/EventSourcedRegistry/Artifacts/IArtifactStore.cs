namespace EventSourcedRegistry.Artifacts;

/// <summary>
/// A content-addressed, write-once store of artifact bytes keyed by SHA-256. Every digest passed in is the
/// canonical 64 lower-case hex digits (<see cref="ArtifactDigest"/>); the store alone chooses where bytes live.
/// </summary>
public interface IArtifactStore
{
    /// <summary>
    /// Streams <paramref name="content"/> into the store, hashing it as it flows. The bytes are kept under their
    /// digest only if nothing is stored there yet, and never when they exceed the size limit or do not match a
    /// declared digest; a stored artifact is never overwritten.
    /// </summary>
    Task<ArtifactPutResult> PutAsync(Stream content, ArtifactPutOptions options, CancellationToken ct = default);

    /// <summary>Size and time of a stored artifact; null when there is none.</summary>
    Task<ArtifactInfo?> GetInfoAsync(string sha256, CancellationToken ct = default);

    /// <summary>The stored bytes from <paramref name="offset"/>, at most <paramref name="length"/> of them (all when null); null when there is none.</summary>
    Task<Stream?> OpenReadAsync(string sha256, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>Removes a stored artifact; false when there was none.</summary>
    Task<bool> DeleteAsync(string sha256, CancellationToken ct = default);

    /// <summary>Every stored artifact, for orphan detection.</summary>
    IAsyncEnumerable<ArtifactInfo> ListAsync(CancellationToken ct = default);

    /// <summary>Removes what uploads that never finished (a crash, a killed process) left behind before <paramref name="before"/>.</summary>
    Task<int> DeleteAbandonedUploadsAsync(DateTimeOffset before, CancellationToken ct = default);
}

/// <param name="ExpectedSha256">The digest the client declared; when the bytes hash to anything else nothing is kept.</param>
/// <param name="MaxBytes">Reading stops and nothing is kept once the content passes this many bytes.</param>
public sealed record ArtifactPutOptions(string? ExpectedSha256 = null, long? MaxBytes = null);

public enum ArtifactPutOutcome
{
    /// <summary>The bytes are now stored under their digest.</summary>
    Created,
    /// <summary>The same bytes were already stored; no second copy was made.</summary>
    AlreadyStored,
    /// <summary>The bytes did not hash to the declared digest; nothing was kept.</summary>
    DigestMismatch,
    /// <summary>The content passed the size limit; nothing was kept.</summary>
    TooLarge,
}

/// <param name="Sha256">The digest of the bytes received (empty when the upload stopped at the size limit).</param>
/// <param name="SizeBytes">The bytes received (for <see cref="ArtifactPutOutcome.TooLarge"/>: read before stopping).</param>
public sealed record ArtifactPutResult(ArtifactPutOutcome Outcome, string Sha256, long SizeBytes)
{
    public bool Stored => Outcome is ArtifactPutOutcome.Created or ArtifactPutOutcome.AlreadyStored;
}

/// <param name="StoredAt">When the artifact was last stored or uploaded again (the orphan grace period counts from here).</param>
public sealed record ArtifactInfo(string Sha256, long SizeBytes, DateTimeOffset StoredAt);
