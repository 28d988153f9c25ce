namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// One way a person or a pipeline might write a SHA-256 digest: accepted (every form names the same bytes and is stored
/// and answered as 64 lower-case hex digits) or refused with <see cref="Refusal"/> in the answer.
/// </summary>
public sealed record DigestForm(string Name, Func<string, string> Write, string? Refusal = null)
{
    public bool Accepted => Refusal is null;

    /// <summary>Whitespace around the digest only: an HTTP header's value never keeps it (RFC 9110, 5.5), so a header takes it.</summary>
    public bool OnlyOuterWhitespace { get; init; }

    public override string ToString() => Name;
}

/// <summary>The table of digest forms that every door that takes a digest, and esr, must answer alike (issue 19, item 7).</summary>
public static class DigestForms
{
    public static readonly DigestForm[] All =
    [
        new("lower-case hex", h => h),
        new("upper-case hex", h => h.ToUpperInvariant()),
        // The form samples/pipeline writes its dataset digests in.
        new("sha256: prefix", h => "sha256:" + h),
        new("SHA256: prefix, upper-case hex", h => "SHA256:" + h.ToUpperInvariant()),
        new("Sha256: prefix, mixed-case hex", h => "Sha256:" + h[..32] + h[32..].ToUpperInvariant()),

        new("the prefix alone", _ => "sha256:", "no digits after sha256:"),
        new("an md5 digest", h => "md5:" + h[..32], "is not SHA-256"),
        new("sha-256: prefix", h => "sha-256:" + h, "is not SHA-256"),
        new("the prefix twice", h => "sha256:sha256:" + h, "which is not a hexadecimal digit"),
        new("a space after the prefix", h => "sha256: " + h, "whitespace"),
        new("a leading space", h => " " + h, "whitespace") { OnlyOuterWhitespace = true },
        new("a trailing space", h => h + " ", "whitespace") { OnlyOuterWhitespace = true },
        new("63 digits", h => h[..63], "has 63 hexadecimal digits"),
        new("a letter past f", h => "g" + h[1..], "'g', which is not a hexadecimal digit"),
    ];

    public static IEnumerable<DigestForm> Accepted => All.Where(f => f.Accepted);
    public static IEnumerable<DigestForm> Refused => All.Where(f => !f.Accepted);
}
