namespace EventSourcedRegistry.Artifacts;

/// <summary>
/// That a caller uploaded an artifact's bytes: what lets a pipeline read back (and register) its own upload before
/// any version references it. The caller held the bytes, so reading them back tells it nothing new. One document per
/// digest and caller; deleted with the artifact when it is removed as an orphan.
/// </summary>
public sealed class ArtifactUpload
{
    /// <summary><see cref="IdOf"/> of digest and caller.</summary>
    public string Id { get; set; } = "";
    public string Sha256 { get; set; } = "";
    /// <summary>An API key's id or a token's actor (see the API's <c>Callers</c>).</summary>
    public string Caller { get; set; } = "";
    /// <summary>The latest upload of these bytes by this caller.</summary>
    public DateTimeOffset UploadedAt { get; set; }

    public static string IdOf(string sha256, string caller) => $"{ArtifactDigest.Require(sha256)}:{caller}";
}
