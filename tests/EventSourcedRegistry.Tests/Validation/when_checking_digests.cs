using System.Security.Cryptography;
using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Tests.Validation;

public class when_checking_digests
{
    private static readonly byte[] Hash = SHA256.HashData("model.onnx"u8);

    public static TheoryData<string> WellFormed => new(
        Convert.ToHexStringLower(Hash),
        Convert.ToHexString(Hash),
        string.Concat(Convert.ToHexStringLower(Hash)[..32], Convert.ToHexString(Hash)[32..]));

    public static TheoryData<string?> Malformed
    {
        get
        {
            var hex = Convert.ToHexStringLower(Hash);
            return new(hex[..63], hex + "0", "g" + hex[1..], hex[..63] + " ", " " + hex[..63], "sha256:" + hex[7..],
                new string('z', 64), "", null);
        }
    }

    [Theory]
    [MemberData(nameof(WellFormed))]
    public void sixty_four_hex_digits_in_either_case_are_a_sha256(string digest)
    {
        Assert.True(InputRules.IsSha256(digest));
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void anything_else_is_not(string? digest)
    {
        Assert.False(InputRules.IsSha256(digest));
    }
}
