using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Audit;

/// <summary>
/// A signed statement "workspace W's hash chain head at sequence N is H". Kept outside the database (printed, mailed,
/// committed elsewhere), it lets anyone later prove that no event of W at or before N was changed, removed or
/// inserted since, even by whoever administers the database. A document of W's tenant; the workspace is inside the
/// signed text, so a checkpoint of one workspace never verifies as another's.
/// </summary>
public sealed class AuditCheckpoint
{
    public const string Algorithm = "ECDSA P-256 with SHA-256, DER-encoded signature";
    public const string Prefix = "esr-audit-checkpoint/v2";
    /// <summary>Checkpoints signed before workspaces: no workspace in the text; they verify only as the default workspace's.</summary>
    public const string LegacyPrefix = "esr-audit-checkpoint/v1";

    /// <summary>The sequence of the chain head that was signed; one checkpoint per head.</summary>
    public long Id { get; set; }

    /// <summary>The head hash, lower-case hex.</summary>
    public string Head { get; set; } = "";

    public DateTimeOffset SignedAt { get; set; }
    public string KeyId { get; set; } = "";

    /// <summary>The workspace whose chain was signed; null on a checkpoint signed before workspaces (the default workspace's).</summary>
    public string? Workspace { get; set; }

    /// <summary>The exact ASCII text that was signed (see <see cref="MessageFor"/>).</summary>
    public string Message { get; set; } = "";

    /// <summary>The signature over <see cref="Message"/>, base64 of the DER encoding.</summary>
    public string Signature { get; set; } = "";

    /// <summary>
    /// <c>esr-audit-checkpoint/v2 workspace=&lt;slug&gt; sequence=&lt;n&gt; head=&lt;64 hex&gt; signedAt=&lt;yyyy-MM-ddTHH:mm:ss.ffffffZ&gt; keyId=&lt;16 hex&gt;</c>,
    /// single spaces, no trailing newline. The slug is <c>[a-z][a-z0-9-]*</c> (or <c>~platform</c>), so it cannot hold a space.
    /// </summary>
    public static string MessageFor(WorkspaceId workspace, long sequence, string head, DateTimeOffset signedAt, string keyId) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Prefix} workspace={workspace.Slug} sequence={sequence} head={head} signedAt={signedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'} keyId={keyId}");

    /// <summary>The text signed before workspaces: <c>esr-audit-checkpoint/v1 sequence=… head=… signedAt=… keyId=…</c>.</summary>
    public static string LegacyMessageFor(long sequence, string head, DateTimeOffset signedAt, string keyId) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{LegacyPrefix} sequence={sequence} head={head} signedAt={signedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'} keyId={keyId}");

    /// <summary>
    /// The text this checkpoint must carry to be <paramref name="workspace"/>'s: the v2 text naming it, or (for the
    /// default workspace only) the v1 text of a checkpoint signed before workspaces.
    /// </summary>
    public bool MessageMatches(WorkspaceId workspace) =>
        Message == MessageFor(workspace, Id, Head, SignedAt, KeyId)
        || (workspace == WorkspaceId.Default && Workspace is null && Message == LegacyMessageFor(Id, Head, SignedAt, KeyId));
}

/// <summary>
/// The registry's audit signing key: ECDSA on NIST P-256 (.NET 10 has no Ed25519), SHA-256, DER signatures,
/// so <c>openssl dgst -sha256 -verify pub.pem -signature sig.bin msg.bin</c> checks a checkpoint.
/// </summary>
public sealed class CheckpointSigner : IDisposable
{
    private const string P256Oid = "1.2.840.10045.3.1.7";
    private readonly ECDsa _key;

    private CheckpointSigner(ECDsa key, string? source)
    {
        _key = key;
        Source = source;
        var spki = key.ExportSubjectPublicKeyInfo();
        KeyId = Convert.ToHexStringLower(SHA256.HashData(spki))[..16];
        PublicKeyPem = key.ExportSubjectPublicKeyInfoPem() + "\n";
    }

    /// <summary>First 16 hex digits of SHA-256 over the public key's DER SubjectPublicKeyInfo.</summary>
    public string KeyId { get; }

    public string PublicKeyPem { get; }

    /// <summary>The file the key was loaded from or created in, if any.</summary>
    public string? Source { get; }

    /// <summary>True when <see cref="LoadOrCreate"/> generated the key because the file did not exist.</summary>
    public bool Created { get; private set; }

    public static CheckpointSigner FromPem(string pem, string? source = null)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            _ = key.ExportParameters(includePrivateParameters: true);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new InvalidOperationException(
                $"The audit signing key{(source is null ? "" : $" in {source}")} is not an EC private key in PEM form: {ex.Message}", ex);
        }
        if (key.ExportParameters(false).Curve.Oid.Value != P256Oid)
        {
            key.Dispose();
            throw new InvalidOperationException($"The audit signing key{(source is null ? "" : $" in {source}")} must be on curve P-256 (prime256v1).");
        }
        return new CheckpointSigner(key, source);
    }

    public static CheckpointSigner Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), null);

    /// <summary>Loads the PEM key at <paramref name="path"/>, or creates one there (PKCS#8, mode 600) if the file does not exist.</summary>
    public static CheckpointSigner LoadOrCreate(string path)
    {
        if (File.Exists(path)) return FromPem(File.ReadAllText(path), path);

        using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = fresh.ExportPkcs8PrivateKeyPem() + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using var file = new FileStream(path, options);
            file.Write(Encoding.ASCII.GetBytes(pem));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs, so there is only ever one key.
            return FromPem(File.ReadAllText(path), path);
        }
        var created = FromPem(pem, path);
        created.Created = true;
        return created;
    }

    public AuditCheckpoint Sign(WorkspaceId workspace, long sequence, byte[] head, DateTimeOffset now)
    {
        // Microseconds, like every timestamp in the store, so the message survives a round trip through PostgreSQL.
        var signedAt = new DateTimeOffset(now.UtcTicks - now.UtcTicks % 10, TimeSpan.Zero);
        var headHex = Convert.ToHexStringLower(head);
        var message = AuditCheckpoint.MessageFor(workspace, sequence, headHex, signedAt, KeyId);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(message), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new AuditCheckpoint
        {
            Id = sequence,
            Head = headHex,
            SignedAt = signedAt,
            KeyId = KeyId,
            Workspace = workspace.Slug,
            Message = message,
            Signature = Convert.ToBase64String(signature),
        };
    }

    /// <summary>
    /// True when the checkpoint's message is <paramref name="workspace"/>'s text for its fields and its signature verifies
    /// with this key: a checkpoint signed for another workspace is false here, whatever its head.
    /// </summary>
    public bool Verify(AuditCheckpoint checkpoint, WorkspaceId workspace)
    {
        if (checkpoint.KeyId != KeyId) return false;
        if (!checkpoint.MessageMatches(workspace)) return false;
        byte[] signature;
        try { signature = Convert.FromBase64String(checkpoint.Signature); }
        catch (FormatException) { return false; }
        return _key.VerifyData(Encoding.ASCII.GetBytes(checkpoint.Message), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    public void Dispose() => _key.Dispose();
}
