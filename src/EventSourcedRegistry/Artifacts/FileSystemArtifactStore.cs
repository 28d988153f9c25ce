using System.Buffers;
using System.Runtime.CompilerServices;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Artifacts;

/// <summary>
/// Artifacts as files under <c>&lt;root&gt;/sha256/&lt;hex&gt;</c> (the <c>default</c> workspace) or
/// <c>&lt;root&gt;/ws/&lt;slug&gt;/sha256/&lt;hex&gt;</c> (any other; see <see cref="ArtifactDigest.PrefixOf"/>): the
/// embedded default, under the data directory. One instance is one workspace's store.
/// An upload goes to a temporary file in that same directory (so the final rename never crosses a file
/// system), hashed while it is written, flushed to disk, then moved into place without replacing anything.
/// </summary>
public sealed class FileSystemArtifactStore : IArtifactStore
{
    private const int ChunkSize = 1024 * 1024;
    private const string UploadPrefix = ".upload-";
    private const string UploadSuffix = ".tmp";

    private readonly string _directory;

    /// <param name="workspace">Whose artifacts this instance holds; <c>default</c> when not given.</param>
    public FileSystemArtifactStore(string root, WorkspaceId? workspace = null)
    {
        Root = Path.GetFullPath(root);
        _directory = Path.Combine(Root, ArtifactDigest.PrefixOf(workspace ?? WorkspaceId.Default), "sha256");
    }

    /// <summary>The store's root; the workspace's artifacts live in its <c>sha256</c> folder (below <c>ws/&lt;slug&gt;</c> but for default).</summary>
    public string Root { get; }

    public async Task<ArtifactPutResult> PutAsync(Stream content, ArtifactPutOptions options, CancellationToken ct = default)
    {
        var expected = options.ExpectedSha256 is { } declared ? ArtifactDigest.Require(declared) : null;
        Directory.CreateDirectory(_directory);
        using var hasher = new ContentHasher(options.MaxBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var temporary = Path.Combine(_directory, $"{UploadPrefix}{Guid.NewGuid():N}{UploadSuffix}");
        try
        {
            // A declared digest that is already stored: check the bytes, but write nothing.
            if (expected is not null && File.Exists(PathOf(expected)))
            {
                await hasher.DrainAsync(content, buffer, ct);
                return hasher.Refusal(options) ?? Touch(expected, hasher.Length);
            }

            await using (var file = new FileStream(temporary, new FileStreamOptions
                         {
                             Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None,
                             Options = FileOptions.Asynchronous, BufferSize = 0,
                         }))
            {
                int read;
                while ((read = await hasher.FillAsync(content, buffer.AsMemory(0, ChunkSize), ct)) > 0 && !hasher.TooLarge)
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                if (hasher.Refusal(options) is { } refused) return refused;
                file.Flush(flushToDisk: true);
            }

            var sha256 = hasher.Sha256();
            var target = PathOf(sha256);
            if (File.Exists(target)) return Touch(sha256, hasher.Length);
            try
            {
                // Without overwrite, .NET moves with link(2) + unlink(2) on Unix: it fails if the target exists,
                // so of two concurrent uploads of the same bytes exactly one places its file.
                File.Move(temporary, target, overwrite: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                return Touch(sha256, hasher.Length);
            }
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            return new ArtifactPutResult(ArtifactPutOutcome.Created, sha256, hasher.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            TryDelete(temporary);
        }
    }

    public Task<ArtifactInfo?> GetInfoAsync(string sha256, CancellationToken ct = default)
    {
        var file = new FileInfo(PathOf(sha256));
        return Task.FromResult(file.Exists ? new ArtifactInfo(sha256, file.Length, file.LastWriteTimeUtc) : null);
    }

    public Task<Stream?> OpenReadAsync(string sha256, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        FileStream file;
        try
        {
            file = new FileStream(PathOf(sha256), new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan, BufferSize = 0,
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        file.Seek(offset, SeekOrigin.Begin);
        return Task.FromResult<Stream?>(length is { } limit ? new BoundedReadStream(file, limit) : file);
    }

    public Task<bool> DeleteAsync(string sha256, CancellationToken ct = default)
    {
        var path = PathOf(sha256);
        if (!File.Exists(path)) return Task.FromResult(false);
        File.Delete(path);
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!Directory.Exists(_directory)) yield break;
        foreach (var file in new DirectoryInfo(_directory).EnumerateFiles())
        {
            ct.ThrowIfCancellationRequested();
            // Only finished artifacts: uploads in flight have the temporary prefix.
            if (ArtifactDigest.IsCanonical(file.Name)) yield return new ArtifactInfo(file.Name, file.Length, file.LastWriteTimeUtc);
        }
        await Task.CompletedTask;
    }

    public Task<int> DeleteAbandonedUploadsAsync(DateTimeOffset before, CancellationToken ct = default)
    {
        if (!Directory.Exists(_directory)) return Task.FromResult(0);
        var deleted = 0;
        foreach (var file in new DirectoryInfo(_directory).EnumerateFiles($"{UploadPrefix}*{UploadSuffix}"))
        {
            if (file.LastWriteTimeUtc >= before.UtcDateTime) continue;
            if (TryDelete(file.FullName)) deleted++;
        }
        return Task.FromResult(deleted);
    }

    private string PathOf(string sha256) => Path.Combine(_directory, ArtifactDigest.Require(sha256));

    /// <summary>
    /// The same bytes arrived again: restart the orphan grace period, since a version that references them
    /// is probably about to be registered.
    /// </summary>
    private ArtifactPutResult Touch(string sha256, long length)
    {
        try { File.SetLastWriteTimeUtc(PathOf(sha256), DateTime.UtcNow); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return new ArtifactPutResult(ArtifactPutOutcome.AlreadyStored, sha256, length);
    }

    private static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path)) return false;
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
