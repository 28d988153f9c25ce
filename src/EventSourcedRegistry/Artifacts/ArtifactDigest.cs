using EventSourcedRegistry.Contracts;

namespace EventSourcedRegistry.Artifacts;

/// <summary>
/// The one gate between a client's text and a storage path: an artifact is named by its SHA-256 as exactly 64
/// lower-case hex digits, and every store builds its paths from that and nothing else.
/// </summary>
public static class ArtifactDigest
{
    public const int HexLength = 64;

    /// <summary>The store-relative name of an artifact: <c>sha256/&lt;hex&gt;</c>.</summary>
    public static string StorageName(string sha256) => "sha256/" + Require(sha256);

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
