using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Artifacts;

/// <summary>
/// Artifacts as block blobs named <c>sha256/&lt;hex&gt;</c> (the <c>default</c> workspace) or
/// <c>ws/&lt;slug&gt;/sha256/&lt;hex&gt;</c> (any other, <see cref="ArtifactDigest.PrefixOf"/>) in one container; one
/// instance is one workspace's store, and its staging blobs are under its own prefix too. Uploads are staged as blocks
/// (<see cref="BlockSize"/> each, the next block read and hashed while earlier ones are in flight), so an
/// upload never holds more than a few blocks in memory. Each block carries its MD5 (<c>Content-MD5</c>,
/// computed as the bytes arrive), so the service checks every block it receives.
/// <para>
/// Write-once, and why there are two paths. Uncommitted blocks belong to one blob name and cannot be moved, and
/// the name is the digest, which is known up front only when the client declares it:
/// </para>
/// <list type="bullet">
/// <item>Declared digest: blocks are staged straight onto <c>sha256/&lt;hex&gt;</c> and committed only if the
/// bytes hashed to it, with <c>If-None-Match: *</c>. Staged but uncommitted blocks are invisible (the blob does
/// not exist until the commit) and Azure discards them; the commit makes the blob appear once, whole, or not
/// at all, and never replaces one that exists.</item>
/// <item>Undeclared digest: blocks are staged onto <c>staging/&lt;guid&gt;</c> and committed there; once the
/// digest is known the staging blob is copied server-side to <c>sha256/&lt;hex&gt;</c> with
/// <c>If-None-Match: *</c> on the destination, then deleted. Staging blobs that a crash left behind are
/// removed by <see cref="DeleteAbandonedUploadsAsync"/>.</item>
/// </list>
/// Either way a concurrent upload of the same bytes loses the condition and is answered "already stored".
/// </summary>
public sealed class AzureBlobArtifactStore : IArtifactStore
{
    /// <summary>
    /// 4 MiB, the block size unless the upload limit needs larger ones (<see cref="BlockSizeFor"/>). Larger blocks
    /// were measured no faster against Azurite and hold more memory per upload.
    /// </summary>
    public const int BlockSize = 4 * 1024 * 1024;
    /// <summary>Azure's limit of blocks per blob.</summary>
    private const int MaxBlocks = 50_000;
    /// <summary>With the block being filled, at most three blocks (12 MiB) of one upload are in memory.</summary>
    private const int BlocksInFlight = 2;
    private readonly string _artifactPrefix;
    private readonly string _stagingPrefix;
    private readonly WorkspaceId _workspace;

    private readonly BlobContainerClient _container;
    private Task? _containerReady;

    /// <param name="container">A singleton client; the container is created on first use if it does not exist.</param>
    /// <param name="workspace">Whose artifacts this instance holds; <c>default</c> when not given.</param>
    public AzureBlobArtifactStore(BlobContainerClient container, WorkspaceId? workspace = null)
    {
        _container = container;
        _workspace = workspace ?? WorkspaceId.Default;
        _artifactPrefix = ArtifactDigest.PrefixOf(_workspace) + "sha256/";
        _stagingPrefix = ArtifactDigest.PrefixOf(_workspace) + "staging/";
    }

    private string NameOf(string sha256) => ArtifactDigest.StorageName(_workspace, sha256);

    public string ContainerName => _container.Name;

    public async Task<ArtifactPutResult> PutAsync(Stream content, ArtifactPutOptions options, CancellationToken ct = default)
    {
        var expected = options.ExpectedSha256 is { } declared ? ArtifactDigest.Require(declared) : null;
        await EnsureContainer();
        using var hasher = new ContentHasher(options.MaxBytes);

        // A declared digest that is already stored: check the bytes, but send none of them.
        if (expected is not null && await GetInfoAsync(expected, ct) is not null)
        {
            var scratch = ArrayPool<byte>.Shared.Rent(1024 * 1024);
            try { await hasher.DrainAsync(content, scratch, ct); }
            finally { ArrayPool<byte>.Shared.Return(scratch); }
            return hasher.Refusal(options) ?? await Touch(expected, hasher.Length, ct);
        }

        var upload = _container.GetBlockBlobClient(expected is null ? $"{_stagingPrefix}{Guid.NewGuid():N}" : NameOf(expected));
        var blockIds = await StageBlocksAsync(upload, content, hasher, BlockSizeFor(options.MaxBytes), ct);
        if (hasher.Refusal(options) is { } refused)
        {
            // Declared: the staged blocks stay uncommitted (invisible) and Azure discards them. Staging: delete it.
            if (expected is null) await upload.DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
            return refused;
        }

        var sha256 = hasher.Sha256();
        var headers = new BlobHttpHeaders { ContentType = "application/octet-stream" };
        if (expected is not null)
        {
            try
            {
                await upload.CommitBlockListAsync(blockIds, new CommitBlockListOptions
                {
                    HttpHeaders = headers,
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, ct);
                return new ArtifactPutResult(ArtifactPutOutcome.Created, sha256, hasher.Length);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 or 400)
            {
                // Another upload of the same bytes committed first (its commit also dropped our staged blocks).
                if (await GetInfoAsync(sha256, ct) is null) throw;
                return await Touch(sha256, hasher.Length, ct);
            }
        }

        try
        {
            await upload.CommitBlockListAsync(blockIds, new CommitBlockListOptions { HttpHeaders = headers }, ct);
            var target = _container.GetBlobClient(NameOf(sha256));
            if (await GetInfoAsync(sha256, ct) is not null) return await Touch(sha256, hasher.Length, ct);
            try
            {
                var copy = await target.StartCopyFromUriAsync(upload.Uri, new BlobCopyFromUriOptions
                {
                    DestinationConditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, ct);
                await copy.WaitForCompletionAsync(ct);
                return new ArtifactPutResult(ArtifactPutOutcome.Created, sha256, hasher.Length);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                if (await GetInfoAsync(sha256, ct) is null) throw;
                return await Touch(sha256, hasher.Length, ct);
            }
        }
        finally
        {
            await upload.DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
        }
    }

    public async Task<ArtifactInfo?> GetInfoAsync(string sha256, CancellationToken ct = default)
    {
        await EnsureContainer();
        try
        {
            var properties = await _container.GetBlobClient(NameOf(sha256)).GetPropertiesAsync(cancellationToken: ct);
            return new ArtifactInfo(sha256, properties.Value.ContentLength, properties.Value.LastModified);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(string sha256, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        await EnsureContainer();
        var blob = _container.GetBlobClient(NameOf(sha256));
        if (length == 0)
            return await GetInfoAsync(sha256, ct) is null ? null : Stream.Null;
        try
        {
            var download = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset, length) }, ct);
            return download.Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            // A range starting at the end of the blob: there is nothing to read, but the artifact exists.
            return Stream.Null;
        }
    }

    public async Task<bool> DeleteAsync(string sha256, CancellationToken ct = default)
    {
        await EnsureContainer();
        var deleted = await _container.GetBlobClient(NameOf(sha256)).DeleteIfExistsAsync(cancellationToken: ct);
        return deleted.Value;
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await EnsureContainer();
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _artifactPrefix }, ct))
        {
            var name = blob.Name[_artifactPrefix.Length..];
            if (ArtifactDigest.IsCanonical(name))
                yield return new ArtifactInfo(name, blob.Properties.ContentLength ?? 0, blob.Properties.LastModified ?? DateTimeOffset.MinValue);
        }
    }

    public async Task<int> DeleteAbandonedUploadsAsync(DateTimeOffset before, CancellationToken ct = default)
    {
        await EnsureContainer();
        var deleted = 0;
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _stagingPrefix }, ct))
        {
            if (blob.Properties.LastModified is { } modified && modified >= before) continue;
            if ((await _container.GetBlobClient(blob.Name).DeleteIfExistsAsync(cancellationToken: ct)).Value) deleted++;
        }
        return deleted;
    }

    /// <summary>
    /// <see cref="BlockSize"/>, or for an upload limit past 50,000 such blocks the smallest whole number of MiB
    /// that keeps the largest allowed upload within Azure's 50,000 blocks.
    /// </summary>
    public static int BlockSizeFor(long? maxBytes)
    {
        if (maxBytes is not { } max || max <= (long)BlockSize * MaxBlocks) return BlockSize;
        const long MiB = 1024 * 1024;
        var perBlock = (max + MaxBlocks - 1) / MaxBlocks;
        return (int)Math.Min((perBlock + MiB - 1) / MiB * MiB, Array.MaxLength / MiB * MiB);
    }

    /// <summary>
    /// Stages the content as blocks: reads and hashes the next block while up to <see cref="BlocksInFlight"/>
    /// earlier ones upload, so the upload runs at the pace of the slower of hashing and the network. Each chunk is
    /// hashed twice as it arrives: into the content's SHA-256 and into the block's MD5, which goes with the block
    /// as <c>Content-MD5</c> so that the service refuses a block damaged on the way.
    /// </summary>
    private static async Task<List<string>> StageBlocksAsync(BlockBlobClient blob, Stream content, ContentHasher hasher, int blockSize, CancellationToken ct)
    {
        var uploadId = Guid.NewGuid().ToString("N");
        var blockIds = new List<string>();
        var inFlight = new Queue<(Task Staging, byte[] Buffer)>();
        var buffers = new List<byte[]>();
        using var blockMd5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        try
        {
            while (true)
            {
                byte[] buffer;
                if (inFlight.Count == BlocksInFlight)
                {
                    var (staging, free) = inFlight.Dequeue();
                    await staging;
                    buffer = free;
                }
                else
                {
                    buffer = ArrayPool<byte>.Shared.Rent(blockSize);
                    buffers.Add(buffer);
                }

                var read = await hasher.FillAsync(content, buffer.AsMemory(0, blockSize), ct, blockMd5);
                var md5 = blockMd5.GetHashAndReset();
                if (read == 0 || hasher.TooLarge) break;
                // Block ids must all have the same length within a blob.
                var blockId = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{uploadId}-{blockIds.Count:D6}"));
                blockIds.Add(blockId);
                var options = new BlockBlobStageBlockOptions
                {
                    TransferValidation = new UploadTransferValidationOptions
                    {
                        ChecksumAlgorithm = StorageChecksumAlgorithm.MD5,
                        PrecalculatedChecksum = md5,
                    },
                };
                inFlight.Enqueue((blob.StageBlockAsync(blockId, new MemoryStream(buffer, 0, read, writable: false), options, ct), buffer));
            }
            while (inFlight.Count > 0) await inFlight.Dequeue().Staging;
            // An empty artifact is a blob with no blocks.
            return blockIds;
        }
        finally
        {
            foreach (var (staging, _) in inFlight)
            {
                try { await staging; }
                catch (Exception) { /* the fault that got us here is the one to report */ }
            }
            foreach (var buffer in buffers) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The same bytes arrived again: restart the orphan grace period (Last-Modified) by rewriting the blob's
    /// metadata; its content is never touched.
    /// </summary>
    private async Task<ArtifactPutResult> Touch(string sha256, long length, CancellationToken ct)
    {
        try
        {
            await _container.GetBlobClient(NameOf(sha256)).SetMetadataAsync(
                new Dictionary<string, string> { ["lastupload"] = DateTimeOffset.UtcNow.ToString("O") }, cancellationToken: ct);
        }
        catch (RequestFailedException)
        {
            // An immutability policy may forbid it; the artifact is stored all the same.
        }
        return new ArtifactPutResult(ArtifactPutOutcome.AlreadyStored, sha256, length);
    }

    private async Task EnsureContainer()
    {
        var ready = _containerReady ??= CreateContainer();
        try
        {
            await ready;
        }
        catch
        {
            // A transient failure must not break the store for good: the next call tries again.
            _ = Interlocked.CompareExchange(ref _containerReady, null, ready);
            throw;
        }
    }

    private async Task CreateContainer()
    {
        try
        {
            await _container.CreateIfNotExistsAsync();
        }
        catch (RequestFailedException e) when (e.Status == 403)
        {
            // An identity allowed to read and write blobs but not to create containers: the container is
            // expected to exist, and if it does not the first blob operation says so.
        }
    }
}
