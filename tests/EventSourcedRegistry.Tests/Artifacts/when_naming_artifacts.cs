using System.Security.Cryptography;
using EventSourcedRegistry.Artifacts;

namespace EventSourcedRegistry.Tests.Artifacts;

public class when_naming_artifacts
{
    private static readonly string Hex = Convert.ToHexStringLower(SHA256.HashData("model.onnx"u8));

    [Fact]
    public void a_digest_in_either_case_normalizes_to_lower_case()
    {
        Assert.True(ArtifactDigest.TryNormalize(Hex.ToUpperInvariant(), out var normalized));
        Assert.Equal(Hex, normalized);
    }

    [Fact]
    public void the_storage_name_is_sha256_slash_the_digest()
    {
        Assert.Equal($"sha256/{Hex}", ArtifactDigest.StorageName(Hex));
    }

    [Fact]
    public void a_workspaces_artifacts_are_named_under_its_slug_and_defaults_keep_the_names_from_before_workspaces()
    {
        Assert.Equal($"sha256/{Hex}", ArtifactDigest.StorageName(EventSourcedRegistry.Store.WorkspaceId.Default, Hex));
        Assert.Equal($"ws/team-a/sha256/{Hex}", ArtifactDigest.StorageName(EventSourcedRegistry.Store.WorkspaceId.Parse("team-a"), Hex));
        Assert.Equal("ws/team-a/", ArtifactDigest.PrefixOf(EventSourcedRegistry.Store.WorkspaceId.Parse("team-a")));
        Assert.Throws<ArgumentException>(() => ArtifactDigest.PrefixOf(EventSourcedRegistry.Store.WorkspaceId.Platform));
        Assert.Throws<ArgumentException>(() => ArtifactDigest.StorageName(EventSourcedRegistry.Store.WorkspaceId.Parse("team-a"), "../" + Hex[3..]));
    }

    public static TheoryData<string?> NotADigest => new(
        null, "", Hex[..63], Hex + "0", "../" + Hex[3..], Hex[..62] + "/.", Hex[..62] + "..", Hex[..63] + "\0",
        Hex[..63] + "\\", Hex[..63] + "#", "%2e%2e%2f" + Hex[9..], "/" + Hex[1..], " " + Hex[1..], Hex[..63] + "g",
        new string('a', 63) + "\u0660", new string('A', 300));

    [Theory]
    [MemberData(nameof(NotADigest))]
    public void anything_but_64_hex_digits_names_no_artifact(string? candidate)
    {
        Assert.False(ArtifactDigest.TryNormalize(candidate, out _));
        Assert.False(ArtifactDigest.IsCanonical(candidate));
        if (candidate is not null) Assert.Throws<ArgumentException>(() => ArtifactDigest.StorageName(candidate));
    }

    [Fact]
    public void only_lower_case_is_canonical_for_a_storage_path()
    {
        Assert.True(ArtifactDigest.IsCanonical(Hex));
        Assert.False(ArtifactDigest.IsCanonical(Hex.ToUpperInvariant()));
        Assert.Throws<ArgumentException>(() => ArtifactDigest.Require(Hex.ToUpperInvariant()));
    }
}
