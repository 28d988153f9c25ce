using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Audit;

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
        var checkpoint = signer.Sign(42, SHA256.HashData("head"u8), new DateTimeOffset(2026, 3, 3, 14, 0, 0, TimeSpan.Zero).AddTicks(1234567));

        Assert.Equal($"esr-audit-checkpoint/v1 sequence=42 head={checkpoint.Head} signedAt=2026-03-03T14:00:00.123456Z keyId={signer.KeyId}",
            checkpoint.Message);
        Assert.True(signer.Verify(checkpoint));
        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(signer.PublicKeyPem);
        Assert.True(publicKey.VerifyData(Encoding.ASCII.GetBytes(checkpoint.Message), Convert.FromBase64String(checkpoint.Signature),
            HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

        Assert.False(signer.Verify(new AuditCheckpoint
        {
            Id = 43, Head = checkpoint.Head, SignedAt = checkpoint.SignedAt, KeyId = checkpoint.KeyId,
            Message = AuditCheckpoint.MessageFor(43, checkpoint.Head, checkpoint.SignedAt, checkpoint.KeyId), Signature = checkpoint.Signature,
        }));
        using var other = CheckpointSigner.Generate();
        Assert.False(other.Verify(checkpoint));
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
