using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Tests.Audit;

public sealed class when_keeping_the_signing_key : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("esr-key-");
    private string KeyPath => Path.Combine(_directory.FullName, "keys", "audit-signing-key.pem");

    [Fact]
    public void a_missing_key_is_created_once_readable_by_its_owner_only_and_then_reused()
    {
        using var created = CheckpointSigner.LoadOrCreate(KeyPath);
        using var loaded = CheckpointSigner.LoadOrCreate(KeyPath);

        Assert.True(created.Created);
        Assert.False(loaded.Created);
        Assert.Equal(created.KeyId, loaded.KeyId);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(KeyPath));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyPath));
    }

    [Fact]
    public void the_key_id_is_the_start_of_the_sha256_of_the_public_key()
    {
        using var signer = CheckpointSigner.Generate();
        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(signer.PublicKeyPem);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(publicKey.ExportSubjectPublicKeyInfo()))[..16], signer.KeyId);
    }

    [Fact]
    public void a_checkpoint_verifies_and_any_change_to_it_does_not()
    {
        using var signer = CheckpointSigner.Generate();
        var workspace = WorkspaceId.Parse("team-a");
        var checkpoint = signer.Sign(workspace, 42, SHA256.HashData("head"u8), new DateTimeOffset(2026, 3, 3, 14, 0, 0, TimeSpan.Zero).AddTicks(1234567));

        Assert.Equal($"esr-audit-checkpoint/v2 workspace=team-a sequence=42 head={checkpoint.Head} signedAt=2026-03-03T14:00:00.123456Z keyId={signer.KeyId}",
            checkpoint.Message);
        Assert.Equal("team-a", checkpoint.Workspace);
        Assert.True(signer.Verify(checkpoint, workspace));
        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(signer.PublicKeyPem);
        Assert.True(publicKey.VerifyData(Encoding.ASCII.GetBytes(checkpoint.Message), Convert.FromBase64String(checkpoint.Signature),
            HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

        Assert.False(signer.Verify(new AuditCheckpoint
        {
            Id = 43, Head = checkpoint.Head, SignedAt = checkpoint.SignedAt, KeyId = checkpoint.KeyId, Workspace = checkpoint.Workspace,
            Message = AuditCheckpoint.MessageFor(workspace, 43, checkpoint.Head, checkpoint.SignedAt, checkpoint.KeyId), Signature = checkpoint.Signature,
        }, workspace));
        using var other = CheckpointSigner.Generate();
        Assert.False(other.Verify(checkpoint, workspace));
    }

    [Fact]
    public void a_checkpoint_of_one_workspace_does_not_verify_as_anothers_even_with_its_workspace_field_changed()
    {
        using var signer = CheckpointSigner.Generate();
        var b = signer.Sign(WorkspaceId.Parse("team-b"), 7, SHA256.HashData("head"u8), DateTimeOffset.UtcNow);

        Assert.True(signer.Verify(b, WorkspaceId.Parse("team-b")));
        Assert.False(signer.Verify(b, WorkspaceId.Parse("team-a")));
        Assert.False(signer.Verify(b, WorkspaceId.Default));
        Assert.False(signer.Verify(b, WorkspaceId.Platform));
        // The document's own field is not what decides: the signed text names team-b.
        b.Workspace = "team-a";
        Assert.False(signer.Verify(b, WorkspaceId.Parse("team-a")));
    }

    [Fact]
    public void a_checkpoint_signed_before_workspaces_verifies_as_the_default_workspaces_only()
    {
        using var signer = CheckpointSigner.LoadOrCreate(KeyPath);
        var signedAt = new DateTimeOffset(2026, 3, 3, 14, 0, 0, TimeSpan.Zero);
        var head = Convert.ToHexStringLower(SHA256.HashData("head"u8));
        // Exactly what the registry signed before workspaces (v1 text, no workspace field).
        var message = $"esr-audit-checkpoint/v1 sequence=42 head={head} signedAt=2026-03-03T14:00:00.000000Z keyId={signer.KeyId}";
        Assert.Equal(message, AuditCheckpoint.LegacyMessageFor(42, head, signedAt, signer.KeyId));
        using var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(KeyPath));
        var legacy = new AuditCheckpoint
        {
            Id = 42, Head = head, SignedAt = signedAt, KeyId = signer.KeyId, Message = message,
            Signature = Convert.ToBase64String(key.SignData(Encoding.ASCII.GetBytes(message), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
        };

        Assert.True(signer.Verify(legacy, WorkspaceId.Default));
        Assert.False(signer.Verify(legacy, WorkspaceId.Parse("team-a")));
        Assert.False(signer.Verify(legacy, WorkspaceId.Platform));
    }

    [Fact]
    public void a_key_on_another_curve_or_without_its_private_half_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Contains("P-256", Assert.Throws<InvalidOperationException>(() => CheckpointSigner.FromPem(p384.ExportPkcs8PrivateKeyPem())).Message);
        Assert.Throws<InvalidOperationException>(() => CheckpointSigner.FromPem(p256.ExportSubjectPublicKeyInfoPem()));
        Assert.Throws<InvalidOperationException>(() => CheckpointSigner.FromPem("not a key"));
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
