namespace EventSourcedRegistry.Artifacts;

/// <param name="ActualSha256">What the stored bytes hash to now.</param>
public sealed record ArtifactVerification(string Sha256, long SizeBytes, bool Verified, string ActualSha256, long ActualSizeBytes);

public static class ArtifactStoreExtensions
{
    private const int BufferSize = 1024 * 1024;

    /// <summary>A whole stored artifact that throws <see cref="ArtifactCorruptedException"/> at its end if it does not match its digest.</summary>
    public static async Task<(ArtifactInfo Info, Stream Content)?> OpenVerifiedAsync(this IArtifactStore store, string sha256,
        CancellationToken ct = default)
    {
        if (await store.GetInfoAsync(sha256, ct) is not { } info) return null;
        if (await store.OpenReadAsync(sha256, 0, null, ct) is not { } content) return null;
        return (info, new VerifyingStream(content, sha256, info.SizeBytes));
    }

    /// <summary>Re-hashes a stored artifact; null when there is none.</summary>
    public static async Task<ArtifactVerification?> VerifyAsync(this IArtifactStore store, string sha256, CancellationToken ct = default)
    {
        if (await store.GetInfoAsync(sha256, ct) is not { } info) return null;
        await using var content = await store.OpenReadAsync(sha256, 0, null, ct);
        if (content is null) return null;
        using var hasher = new ContentHasher(maxBytes: null);
        var buffer = new byte[BufferSize];
        await hasher.DrainAsync(content, buffer, ct);
        var actual = hasher.Sha256();
        return new ArtifactVerification(sha256, info.SizeBytes, actual == sha256 && hasher.Length == info.SizeBytes, actual, hasher.Length);
    }
}
