using System.Security.Cryptography;
using Azure.Storage.Blobs;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>
/// What every artifact store promises, run against each backend: content-addressed, write-once, deduplicated,
/// streaming, verified on read, and never naming anything but <c>sha256/&lt;hex&gt;</c>.
/// </summary>
public abstract class ArtifactStoreContract : IAsyncLifetime
{
    protected IArtifactStore Store { get; private set; } = null!;

    protected abstract Task<IArtifactStore> CreateStore();

    /// <summary>The store of another workspace over the same root or container as <see cref="Store"/> (which is default's).</summary>
    protected abstract IArtifactStore StoreOf(WorkspaceId workspace);

    /// <summary>Every name the backend holds, relative to the store's root (files, blobs, leftovers alike).</summary>
    protected abstract Task<List<string>> StoredNames();

    /// <summary>Replaces the stored bytes behind the store's back, as disk rot or a rogue writer would.</summary>
    protected abstract Task Corrupt(string sha256, byte[] bytes);

    /// <summary>Leaves what a crashed upload would leave.</summary>
    protected abstract Task LeaveAbandonedUpload();

    public async Task InitializeAsync() => Store = await CreateStore();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static Task<ArtifactPutResult> Put(IArtifactStore store, byte[] bytes, string? declared = null, long? max = null) =>
        store.PutAsync(new MemoryStream(bytes), new ArtifactPutOptions(declared, max));

    [Fact]
    public async Task put_stores_the_bytes_under_their_sha256_and_reads_them_back()
    {
        var bytes = TestContent.Bytes(1, 100_000);

        var put = await Put(Store, bytes);

        Assert.Equal(ArtifactPutOutcome.Created, put.Outcome);
        Assert.Equal(TestContent.Sha256(bytes), put.Sha256);
        Assert.Equal(bytes.Length, put.SizeBytes);
        Assert.Equal(bytes.Length, (await Store.GetInfoAsync(put.Sha256))!.SizeBytes);
        await using var read = (await Store.OpenReadAsync(put.Sha256))!;
        var back = new MemoryStream();
        await read.CopyToAsync(back);
        Assert.Equal(bytes, back.ToArray());
        Assert.Equal(["sha256/" + put.Sha256], await StoredNames());
    }

    /// <summary>
    /// Guards dedup within a workspace only: a workspace's store keeps its own copy under <c>ws/&lt;slug&gt;/</c>, and
    /// nothing it is asked (put, info, read, list, delete, abandoned uploads) depends on what default holds.
    /// </summary>
    [Fact]
    public async Task a_workspaces_store_keeps_its_own_copy_and_sees_nothing_of_defaults()
    {
        var teamB = StoreOf(WorkspaceId.Parse("team-b"));
        var bytes = TestContent.Bytes(30, 20_000);
        var sha256 = (await Put(Store, bytes)).Sha256;
        await LeaveAbandonedUpload();

        Assert.Null(await teamB.GetInfoAsync(sha256));
        Assert.Null(await teamB.OpenReadAsync(sha256));
        Assert.Empty(await teamB.ListAsync().ToListAsync());
        Assert.False(await teamB.DeleteAsync(sha256));
        Assert.Equal(0, await teamB.DeleteAbandonedUploadsAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Equal(ArtifactPutOutcome.Created, (await Put(teamB, bytes, declared: sha256)).Outcome);
        Assert.Equal(ArtifactPutOutcome.AlreadyStored, (await Put(teamB, bytes)).Outcome);
        Assert.Contains($"ws/team-b/sha256/{sha256}", await StoredNames());
        Assert.Contains($"sha256/{sha256}", await StoredNames());
        Assert.Equal([sha256], (await teamB.ListAsync().ToListAsync()).Select(a => a.Sha256));
        Assert.Equal([sha256], (await Store.ListAsync().ToListAsync()).Select(a => a.Sha256));

        Assert.True(await teamB.DeleteAsync(sha256));
        Assert.NotNull(await Store.GetInfoAsync(sha256));
        Assert.Equal(1, await Store.DeleteAbandonedUploadsAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task a_second_put_of_the_same_bytes_stores_no_second_copy()
    {
        var bytes = TestContent.Bytes(2, 50_000);
        var first = await Put(Store, bytes);

        var second = await Put(Store, bytes);
        var declared = await Put(Store, bytes, declared: first.Sha256);

        Assert.Equal(ArtifactPutOutcome.Created, first.Outcome);
        Assert.Equal(ArtifactPutOutcome.AlreadyStored, second.Outcome);
        Assert.Equal(ArtifactPutOutcome.AlreadyStored, declared.Outcome);
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal(["sha256/" + first.Sha256], await StoredNames());
    }

    [Fact]
    public async Task concurrent_puts_of_the_same_bytes_store_one_copy()
    {
        var bytes = TestContent.Bytes(3, 300_000);

        var puts = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Put(Store, bytes, declared: i % 2 == 0 ? TestContent.Sha256(bytes) : null)));

        Assert.All(puts, p => Assert.True(p.Stored));
        Assert.Contains(puts, p => p.Outcome == ArtifactPutOutcome.Created);
        Assert.Equal(["sha256/" + TestContent.Sha256(bytes)], await StoredNames());
        Assert.True((await Store.VerifyAsync(TestContent.Sha256(bytes)))!.Verified);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_multi_block_upload_round_trips(bool declareDigest)
    {
        // Larger than two Azure blocks and not a multiple of the block size.
        const long length = 2L * AzureBlobArtifactStore.BlockSize + 12_345;
        var sha256 = await TestContent.Sha256(new SeededContentStream(4, length));

        var put = await Store.PutAsync(new SeededContentStream(4, length), new ArtifactPutOptions(declareDigest ? sha256 : null));

        Assert.Equal(ArtifactPutOutcome.Created, put.Outcome);
        Assert.Equal(sha256, put.Sha256);
        Assert.Equal(length, put.SizeBytes);
        var opened = (await Store.OpenVerifiedAsync(sha256))!.Value;
        await using (opened.Content) Assert.Equal(sha256, await TestContent.Sha256(opened.Content));
        Assert.Equal(["sha256/" + sha256], await StoredNames());
    }

    [Fact]
    public async Task a_wrong_declared_digest_keeps_nothing()
    {
        var bytes = TestContent.Bytes(5, 20_000);
        var declared = TestContent.Sha256(TestContent.Bytes(6, 10));

        var put = await Put(Store, bytes, declared);

        Assert.Equal(ArtifactPutOutcome.DigestMismatch, put.Outcome);
        Assert.Equal(TestContent.Sha256(bytes), put.Sha256);
        Assert.Null(await Store.GetInfoAsync(declared));
        Assert.Null(await Store.GetInfoAsync(put.Sha256));
        Assert.Empty(await StoredNames());
    }

    [Fact]
    public async Task content_past_the_size_limit_keeps_nothing()
    {
        var put = await Store.PutAsync(new SeededContentStream(7, 3_000_000), new ArtifactPutOptions(MaxBytes: 1_000_000));

        Assert.Equal(ArtifactPutOutcome.TooLarge, put.Outcome);
        Assert.Empty(await StoredNames());
    }

    [Fact]
    public async Task content_exactly_at_the_size_limit_is_stored()
    {
        var put = await Store.PutAsync(new SeededContentStream(8, 1_000_000), new ArtifactPutOptions(MaxBytes: 1_000_000));

        Assert.Equal(ArtifactPutOutcome.Created, put.Outcome);
    }

    [Fact]
    public async Task an_empty_artifact_is_stored_and_verified()
    {
        var put = await Put(Store, []);

        Assert.Equal(ArtifactPutOutcome.Created, put.Outcome);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", put.Sha256);
        Assert.True((await Store.VerifyAsync(put.Sha256))!.Verified);
    }

    [Fact]
    public async Task a_byte_range_reads_only_those_bytes()
    {
        var bytes = TestContent.Bytes(9, 70_000);
        var sha256 = (await Put(Store, bytes)).Sha256;

        Assert.Equal(bytes[1000..1100], await ReadAll(await Store.OpenReadAsync(sha256, 1000, 100)));
        Assert.Equal(bytes[69_990..], await ReadAll(await Store.OpenReadAsync(sha256, 69_990)));
        Assert.Equal(bytes[..1], await ReadAll(await Store.OpenReadAsync(sha256, 0, 1)));
    }

    [Fact]
    public async Task corrupted_bytes_fail_verification_and_a_verified_read()
    {
        var bytes = TestContent.Bytes(10, 40_000);
        var sha256 = (await Put(Store, bytes)).Sha256;
        var rotten = bytes.ToArray();
        rotten[20_000] ^= 0x01;

        await Corrupt(sha256, rotten);

        var verification = (await Store.VerifyAsync(sha256))!;
        Assert.False(verification.Verified);
        Assert.Equal(TestContent.Sha256(rotten), verification.ActualSha256);
        var opened = (await Store.OpenVerifiedAsync(sha256))!.Value;
        await using (opened.Content)
            await Assert.ThrowsAsync<ArtifactCorruptedException>(() => opened.Content.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task truncated_bytes_fail_verification()
    {
        var bytes = TestContent.Bytes(11, 40_000);
        var sha256 = (await Put(Store, bytes)).Sha256;

        await Corrupt(sha256, bytes[..39_999]);

        Assert.False((await Store.VerifyAsync(sha256))!.Verified);
    }

    [Fact]
    public async Task an_unknown_digest_is_absent_everywhere()
    {
        var unknown = TestContent.Sha256(TestContent.Bytes(12, 10));

        Assert.Null(await Store.GetInfoAsync(unknown));
        Assert.Null(await Store.OpenReadAsync(unknown));
        Assert.Null(await Store.VerifyAsync(unknown));
        Assert.False(await Store.DeleteAsync(unknown));
    }

    [Fact]
    public async Task list_and_delete_see_only_finished_artifacts()
    {
        var a = (await Put(Store, TestContent.Bytes(13, 1000))).Sha256;
        var b = (await Put(Store, TestContent.Bytes(14, 2000))).Sha256;
        await LeaveAbandonedUpload();

        var listed = new List<ArtifactInfo>();
        await foreach (var info in Store.ListAsync()) listed.Add(info);

        Assert.Equal(new[] { a, b }.Order(), listed.Select(i => i.Sha256).Order());
        Assert.Equal(2000, listed.Single(i => i.Sha256 == b).SizeBytes);
        Assert.True(await Store.DeleteAsync(a));
        Assert.Null(await Store.GetInfoAsync(a));
        Assert.Equal(1, await Store.DeleteAbandonedUploadsAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Equal(["sha256/" + b], await StoredNames());
    }

    [Fact]
    public async Task abandoned_uploads_younger_than_the_cutoff_are_kept()
    {
        await LeaveAbandonedUpload();

        Assert.Equal(0, await Store.DeleteAbandonedUploadsAsync(DateTimeOffset.UtcNow.AddHours(-1)));
    }

    [Fact]
    public async Task traversal_payloads_never_reach_a_storage_path()
    {
        var bytes = TestContent.Bytes(15, 1000);
        await Put(Store, bytes);

        foreach (var payload in TestContent.TraversalPayloads.Append(new string('A', 64)).Append(" " + new string('a', 63)))
        {
            await Assert.ThrowsAsync<ArgumentException>(() => Store.GetInfoAsync(payload));
            await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(payload));
            await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(payload));
            await Assert.ThrowsAsync<ArgumentException>(() => Put(Store, bytes, declared: payload));
        }
        Assert.Equal(["sha256/" + TestContent.Sha256(bytes)], await StoredNames());
    }

    private static async Task<byte[]> ReadAll(Stream? stream)
    {
        Assert.NotNull(stream);
        await using (stream)
        {
            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            return buffer.ToArray();
        }
    }
}

public sealed class FileSystemArtifactStoreContract : ArtifactStoreContract
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"esr-fs-store-{Guid.NewGuid():N}");

    protected override Task<IArtifactStore> CreateStore() => Task.FromResult<IArtifactStore>(new FileSystemArtifactStore(_root));

    protected override IArtifactStore StoreOf(WorkspaceId workspace) => new FileSystemArtifactStore(_root, workspace);

    protected override Task<List<string>> StoredNames()
    {
        // Every file under the root, leftovers of uploads included.
        var names = Directory.Exists(_root)
            ? Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories)
                .Where(File.Exists)
                .Select(p => Path.GetRelativePath(_root, p).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return Task.FromResult(names);
    }

    protected override Task Corrupt(string sha256, byte[] bytes)
    {
        var path = Path.Combine(_root, "sha256", sha256);
        // Stored artifacts are read-only; rot does not ask.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(path, bytes);
        return Task.CompletedTask;
    }

    protected override Task LeaveAbandonedUpload()
    {
        Directory.CreateDirectory(Path.Combine(_root, "sha256"));
        File.WriteAllBytes(Path.Combine(_root, "sha256", $".upload-{Guid.NewGuid():N}.tmp"), [1, 2, 3]);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task stored_files_are_read_only()
    {
        var sha256 = (await Store.PutAsync(new MemoryStream([1, 2, 3]), new ArtifactPutOptions())).Sha256;
        if (OperatingSystem.IsWindows()) return;

        var mode = File.GetUnixFileMode(Path.Combine(_root, "sha256", sha256));

        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
    }

    public override Task DisposeAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}

[Collection(Support.AppCollection.Name)]
public sealed class AzureBlobArtifactStoreContract(AzuriteFixture azurite) : ArtifactStoreContract
{
    private BlobContainerClient _container = null!;

    protected override async Task<IArtifactStore> CreateStore()
    {
        _container = await azurite.CreateContainerAsync(nameof(AzureBlobArtifactStoreContract));
        return new AzureBlobArtifactStore(_container);
    }

    protected override IArtifactStore StoreOf(WorkspaceId workspace) => new AzureBlobArtifactStore(_container, workspace);

    protected override async Task<List<string>> StoredNames()
    {
        var names = new List<string>();
        await foreach (var blob in _container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions())) names.Add(blob.Name);
        return names.Order(StringComparer.Ordinal).ToList();
    }

    protected override async Task Corrupt(string sha256, byte[] bytes) =>
        await _container.GetBlobClient($"sha256/{sha256}").UploadAsync(new BinaryData(bytes), overwrite: true);

    protected override async Task LeaveAbandonedUpload() =>
        await _container.GetBlobClient($"staging/{Guid.NewGuid():N}").UploadAsync(new BinaryData(new byte[] { 1, 2, 3 }));

    [Fact]
    public async Task a_stored_blob_is_never_overwritten_by_a_racing_commit()
    {
        var bytes = TestContent.Bytes(16, 5000);
        var sha256 = (await Store.PutAsync(new MemoryStream(bytes), new ArtifactPutOptions())).Sha256;
        var before = (await _container.GetBlobClient($"sha256/{sha256}").GetPropertiesAsync()).Value.CreatedOn;

        // Even past the store's own existence check, the conditional commit refuses to replace the blob.
        var blob = _container.GetBlobClient($"sha256/{sha256}");
        var refused = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => blob.UploadAsync(new BinaryData(bytes),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { Conditions = new() { IfNoneMatch = Azure.ETag.All } }));

        Assert.Equal(409, refused.Status);
        Assert.Equal(before, (await blob.GetPropertiesAsync()).Value.CreatedOn);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_block_damaged_on_the_way_is_refused_by_the_service_and_nothing_is_kept(bool declareDigest)
    {
        // Every block goes with the MD5 of the bytes that were read; a policy in the client's pipeline flips a byte
        // of each block after that, as a faulty network or proxy would.
        var options = new BlobClientOptions();
        options.AddPolicy(new DamageBlocksInTransit(), Azure.Core.HttpPipelinePosition.PerRetry);
        var damaging = new AzureBlobArtifactStore(new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient(_container.Name));
        var bytes = TestContent.Bytes(17, 100_000);

        var refused = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => damaging.PutAsync(new MemoryStream(bytes),
            new ArtifactPutOptions(declareDigest ? TestContent.Sha256(bytes) : null)));

        Assert.Equal(400, refused.Status);
        Assert.Equal("Md5Mismatch", refused.ErrorCode);
        Assert.Empty(await StoredNames());
        Assert.Null(await Store.GetInfoAsync(TestContent.Sha256(bytes)));
    }

    /// <summary>Flips the first byte of every Put Block body, leaving its headers (Content-MD5 among them) as they were.</summary>
    private sealed class DamageBlocksInTransit : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            var query = message.Request.Uri.Query;
            if (message.Request.Content is null || !(query.Contains("comp=block&", StringComparison.Ordinal) || query.EndsWith("comp=block", StringComparison.Ordinal))) return;
            using var copy = new MemoryStream();
            message.Request.Content.WriteTo(copy, CancellationToken.None);
            var bytes = copy.ToArray();
            bytes[0] ^= 0xFF;
            message.Request.Content = Azure.Core.RequestContent.Create(bytes);
        }
    }

    public override async Task DisposeAsync() => await _container.DeleteIfExistsAsync();
}
