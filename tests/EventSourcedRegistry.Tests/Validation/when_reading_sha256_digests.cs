using System.Security.Cryptography;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Contracts;

namespace EventSourcedRegistry.Tests.Validation;

/// <summary>
/// The one rule for SHA-256 digests every door shares (issue 19, item 7): 64 hex digits in either case, optionally
/// prefixed sha256: in either case, read as one canonical form (64 lower-case digits); anything else is refused.
/// </summary>
public class when_reading_sha256_digests
{
    private static readonly string Hex = Convert.ToHexStringLower(SHA256.HashData("model.onnx"u8));

    public static TheoryData<string> WellFormed => new(
        Hex,
        Hex.ToUpperInvariant(),
        string.Concat(Hex[..32], Hex.ToUpperInvariant()[32..]),
        // The form samples/pipeline writes its dataset digests in.
        "sha256:" + Hex,
        "SHA256:" + Hex,
        "Sha256:" + Hex.ToUpperInvariant());

    [Theory]
    [MemberData(nameof(WellFormed))]
    public void a_well_formed_digest_reads_as_the_canonical_lower_case_hex(string text)
    {
        Assert.True(Sha256Digest.TryParse(text, out var sha256, out var problem), problem);
        Assert.Equal(Hex, sha256);
        Assert.Equal(Hex, Sha256Digest.Parse(text));
        // The artifact store's gate reads digests by the same rule.
        Assert.True(ArtifactDigest.TryNormalize(text, out var stored));
        Assert.Equal(Hex, stored);
    }

    public static TheoryData<string?, string> Malformed => new()
    {
        { null, "empty" },
        { "", "empty" },
        { "sha256:", "no digits after sha256:" },
        { "SHA256:", "no digits after sha256:" },
        { "md5:" + Hex[..32], "is not SHA-256 ('md5')" },
        { "MD5:" + Hex[..32], "is not SHA-256 ('MD5')" },
        { "sha1:" + Hex[..40], "is not SHA-256" },
        { "sha512:" + Hex + Hex, "is not SHA-256" },
        { "sha-256:" + Hex, "is not SHA-256" },
        { "sha256-" + Hex, "'s', which is not a hexadecimal digit" },
        { "sha256:sha256:" + Hex, "which is not a hexadecimal digit" },
        { " " + Hex, "whitespace" },
        { Hex + " ", "whitespace" },
        { "sha256: " + Hex, "whitespace" },
        { "sha256:" + Hex + "\n", "whitespace" },
        { Hex[..32] + " " + Hex[33..], "whitespace" },
        { Hex[..63], "has 63 hexadecimal digits" },
        { Hex + "0", "has 65 hexadecimal digits" },
        { "sha256:" + Hex[..63], "has 63 hexadecimal digits" },
        { "sha256:" + Hex[7..], "has 57 hexadecimal digits" },
        { "g" + Hex[1..], "'g', which is not a hexadecimal digit" },
        { new string('z', 64), "'z'" },
        { Hex[..63] + "\u0660", "which is not a hexadecimal digit" },
        { "0x" + Hex[2..], "'x'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void anything_else_is_refused_and_the_problem_says_why(string? text, string says)
    {
        Assert.False(Sha256Digest.TryParse(text, out _, out var problem));
        Assert.Contains(says, problem);
        Assert.False(ArtifactDigest.TryNormalize(text, out _));
        if (text is not null) Assert.Contains(Sha256Digest.AcceptedForms, Assert.Throws<FormatException>(() => Sha256Digest.Parse(text)).Message);
    }
}
