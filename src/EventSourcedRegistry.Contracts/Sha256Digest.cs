namespace EventSourcedRegistry.Contracts;

/// <summary>
/// The one rule for a SHA-256 digest a client gives (a version's artifact, an artifact route, the upload's declared digest,
/// an approval's reviewed digest, an audit checkpoint's head, esr's arguments): 64 hex digits in either case, optionally
/// prefixed <c>sha256:</c> in either case, as pipelines often write it. Its canonical form, the one stored and answered,
/// is the 64 digits in lower case. Anything else is refused, whitespace and other algorithms included: a digest names
/// bytes, and a guess at what a malformed one meant could name other bytes.
/// </summary>
public static class Sha256Digest
{
    public const string Prefix = "sha256:";
    public const int HexLength = 64;

    /// <summary>What every refusal names as the accepted forms.</summary>
    public const string AcceptedForms = "64 hexadecimal digits, optionally prefixed sha256: (e.g. sha256:e3b0c442…b855)";

    /// <summary>The canonical digest (64 lower-case hex digits) of a well-formed one.</summary>
    public static bool TryParse(string? text, out string sha256) => TryParse(text, out sha256, out _);

    /// <summary>
    /// The canonical digest, or <paramref name="problem"/>: what is wrong, starting with the quoted text, for callers to
    /// prefix with the field's name.
    /// </summary>
    public static bool TryParse(string? text, out string sha256, out string problem)
    {
        sha256 = "";
        problem = "";
        if (string.IsNullOrEmpty(text))
        {
            problem = "'' is empty.";
            return false;
        }
        var hex = text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? text[Prefix.Length..] : text;
        if (hex.Length == HexLength && hex.All(char.IsAsciiHexDigit))
        {
            sha256 = hex.ToLowerInvariant();
            return true;
        }

        var quoted = Instants.Quote(text);
        var colon = text.IndexOf(':');
        var notHex = hex.AsSpan().IndexOfAnyExcept("0123456789abcdefABCDEF");
        problem = text.Any(char.IsWhiteSpace) ? $"{quoted} contains whitespace; give the digest alone."
            : hex.Length == 0 ? $"{quoted} has no digits after {Prefix}."
            : colon > 0 && !text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
                ? $"{quoted} is not SHA-256 ({Instants.Quote(text[..colon])}); the registry takes SHA-256 digests only."
            : notHex >= 0 ? $"{quoted} contains {Instants.Quote(hex[notHex].ToString())}, which is not a hexadecimal digit."
            : $"{quoted} has {hex.Length} hexadecimal digits; a SHA-256 has {HexLength}.";
        return false;
    }

    /// <summary>The canonical digest, or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static string Parse(string text) =>
        TryParse(text, out var sha256, out var problem) ? sha256 : throw new FormatException($"{problem} Give {AcceptedForms}.");
}
