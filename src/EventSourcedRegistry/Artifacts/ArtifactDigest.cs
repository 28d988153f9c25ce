using EventSourcedRegistry.Contracts;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Artifacts;

/// <summary>
/// The one gate between a client's text and a storage path: an artifact is named by its SHA-256 as exactly 64
/// lower-case hex digits, and every store builds its paths from that and nothing else.
/// </summary>
public static class ArtifactDigest
{
    public const int HexLength = 64;

    /// <summary>The store-relative name of an artifact of the <c>default</c> workspace: <c>sha256/&lt;hex&gt;</c>.</summary>
    public static string StorageName(string sha256) => "sha256/" + Require(sha256);

    /// <summary>
    /// The store-relative name of an artifact of a workspace: <c>ws/&lt;slug&gt;/sha256/&lt;hex&gt;</c>, and for
    /// <c>default</c> the name it had before workspaces (<see cref="StorageName(string)"/>), so no stored blob moves.
    /// </summary>
    public static string StorageName(WorkspaceId workspace, string sha256) => PrefixOf(workspace) + StorageName(sha256);

    /// <summary>
    /// Where a workspace's artifacts live below the store's root: nothing for <c>default</c>, <c>ws/&lt;slug&gt;/</c> for
    /// any other. Bytes are shared (deduplicated) within a workspace only, so whether bytes are stored says nothing about
    /// another workspace. The slug is immutable and made of <c>[a-z0-9-]</c> only, so it is safe in a path and a blob name;
    /// the platform (which holds no model) gets no artifacts.
    /// </summary>
    public static string PrefixOf(WorkspaceId workspace)
    {
        if (workspace == WorkspaceId.Default) return "";
        if (workspace == WorkspaceId.Platform) throw new ArgumentException("The platform holds no artifacts.", nameof(workspace));
        return $"ws/{workspace.Slug}/";
    }

    /// <summary>
    /// A client's digest by the one rule every door reads digests with (<see cref="Sha256Digest"/>: 64 hex digits in either
    /// case, optionally prefixed <c>sha256:</c>), given canonical (lower-case digits only); anything else is refused.
    /// </summary>
    public static bool TryNormalize(string? candidate, out string sha256) => Sha256Digest.TryParse(candidate, out sha256);

    /// <summary>True for the canonical form only: 64 lower-case hex digits.</summary>
    public static bool IsCanonical(string? candidate)
    {
        if (candidate is not { Length: HexLength }) return false;
        foreach (var c in candidate)
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    /// <summary>Guards every store method: a malformed digest is a programming error here, never a path.</summary>
    public static string Require(string sha256) =>
        IsCanonical(sha256)
            ? sha256
            : throw new ArgumentException("An artifact is named by 64 lower-case hex digits.", nameof(sha256));
}
