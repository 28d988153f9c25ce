using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using System.Buffers;
using EventSourcedRegistry.Artifacts;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Net.Http.Headers;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Artifacts.Downloading;

public static class DownloadArtifactEndpoint
{
    /// <summary>
    /// The stored bytes, with <c>ETag: "&lt;sha256&gt;"</c> and single-range requests (206). A whole-body download
    /// is hashed as it streams and aborted if the bytes do not match their digest.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType(typeof(Stream), StatusCodes.Status200OK, "application/octet-stream")]
    [ProducesResponseType(typeof(Stream), StatusCodes.Status206PartialContent, "application/octet-stream")]
    [ProducesResponseType(StatusCodes.Status304NotModified)]
    [ProducesProblems(StatusCodes.Status416RangeNotSatisfiable)]
    [WolverineGet("/api/v1/artifacts/{sha256}", OperationId = "DownloadArtifact")]
    public static Task<IResult> Get(string sha256, HttpContext http, IArtifactStore store, ArtifactAccess access) =>
        Serve(sha256, http, store, access, withBody: true);

    /// <summary>Whether an artifact the caller may read is stored, and its size, without the bytes.</summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType(StatusCodes.Status200OK)]
    [ProducesResponseType(StatusCodes.Status304NotModified)]
    [WolverineHead("/api/v1/artifacts/{sha256}", OperationId = "HeadArtifact")]
    public static Task<IResult> Head(string sha256, HttpContext http, IArtifactStore store, ArtifactAccess access) =>
        Serve(sha256, http, store, access, withBody: false);

    private static async Task<IResult> Serve(string raw, HttpContext http, IArtifactStore store, ArtifactAccess access, bool withBody)
    {
        if (!ArtifactRoutes.TryParse(raw, out var sha256, out var problem)) return problem!;
        // Before the store is asked: a digest the caller may not read is answered as one that is not stored.
        if (!await access.MayRead(http.Workspace(), http.User, sha256, http.RequestAborted)) return ArtifactRoutes.NotFound(sha256);
        var info = await store.GetInfoAsync(sha256, http.RequestAborted);
        if (info is null) return ArtifactRoutes.NotFound(sha256);

        var etag = new EntityTagHeaderValue(ArtifactRoutes.ETagOf(sha256));
        var response = http.Response.GetTypedHeaders();
        response.ETag = etag;
        // Content-addressed: the bytes at this URL never change.
        response.CacheControl = new CacheControlHeaderValue { Private = true, MaxAge = TimeSpan.FromDays(365), Extensions = { new NameValueHeaderValue("immutable") } };
        http.Response.Headers.AcceptRanges = "bytes";

        var request = http.Request.GetTypedHeaders();
        if (request.IfNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(etag, useStrongComparison: false)))
            return Results.StatusCode(StatusCodes.Status304NotModified);

        if (!withBody)
        {
            http.Response.ContentType = "application/octet-stream";
            http.Response.ContentLength = info.SizeBytes;
            return Results.Empty;
        }

        if (RequestedRange(request, etag, info.SizeBytes, out var range) is { } unsatisfiable) return unsatisfiable;
        return range is { } r ? new PartialDownload(store, info, r.From, r.Length) : new VerifiedDownload(store, info);
    }

    /// <summary>
    /// One byte range, honoured when If-Range (if any) names this artifact. Several ranges, or another unit,
    /// are answered with the whole artifact, as RFC 9110 allows; a range past the end is 416.
    /// </summary>
    private static IResult? RequestedRange(RequestHeaders request, EntityTagHeaderValue etag, long size, out (long From, long Length)? range)
    {
        range = null;
        if (request.Range is not { Unit.Value: "bytes", Ranges.Count: 1 } header) return null;
        if (request.IfRange is { } ifRange && (ifRange.EntityTag is not { } tag || !tag.Compare(etag, useStrongComparison: true))) return null;

        var item = header.Ranges.Single();
        long from, to;
        if (item.From is { } start)
        {
            from = start;
            to = Math.Min(item.To ?? size - 1, size - 1);
        }
        else
        {
            var suffix = Math.Min(item.To ?? 0, size);
            from = size - suffix;
            to = size - 1;
        }
        if (from >= size || to < from)
        {
            return new RangeNotSatisfiable(size);
        }
        range = (from, to - from + 1);
        return null;
    }

    private sealed class RangeNotSatisfiable(long size) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            http.Response.Headers.ContentRange = $"bytes */{size}";
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// A byte range, served as stored: a part of an artifact cannot be checked against the whole artifact's
    /// digest without reading all of it. Clients that assemble ranges check the result against the ETag.
    /// </summary>
    private sealed class PartialDownload(IArtifactStore store, ArtifactInfo info, long from, long length) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            await using var content = await store.OpenReadAsync(info.Sha256, from, length, http.RequestAborted);
            if (content is null)
            {
                await ArtifactRoutes.NotFound(info.Sha256).ExecuteAsync(http);
                return;
            }
            http.Response.StatusCode = StatusCodes.Status206PartialContent;
            http.Response.ContentType = "application/octet-stream";
            http.Response.Headers.ContentRange = $"bytes {from}-{from + length - 1}/{info.SizeBytes}";
            http.Response.ContentLength = length;
            await content.CopyToAsync(http.Response.Body, http.RequestAborted);
            http.RequestServices.GetService<Hosting.RegistryMetrics>()?.Sent(length);
        }
    }

    /// <summary>
    /// The whole artifact, hashed as it streams. Each chunk is sent only after the next read succeeded, and the
    /// read that reaches the end is the one that checks the digest, so the last chunk of a corrupted artifact is
    /// never sent: the client gets a 500 (nothing sent yet) or a connection aborted short of Content-Length.
    /// With <paramref name="fileName"/> (MLflow's artifact proxy) it is sent as an attachment of that name.
    /// </summary>
    internal sealed class VerifiedDownload(IArtifactStore store, ArtifactInfo info, string? fileName = null) : IResult
    {
        private const int ChunkSize = 256 * 1024;

        public async Task ExecuteAsync(HttpContext http)
        {
            var ct = http.RequestAborted;
            var opened = await store.OpenVerifiedAsync(info.Sha256, ct);
            if (opened is not { } artifact)
            {
                await ArtifactRoutes.NotFound(info.Sha256).ExecuteAsync(http);
                return;
            }

            var held = ArrayPool<byte>.Shared.Rent(ChunkSize);
            var next = ArrayPool<byte>.Shared.Rent(ChunkSize);
            await using var content = artifact.Content;
            try
            {
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.ContentType = "application/octet-stream";
                http.Response.ContentLength = artifact.Info.SizeBytes;
                if (fileName is not null)
                {
                    // Always bytes, never rendered: whatever a client uploaded, the registry's origin serves no page of it.
                    http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName }.ToString();
                    http.Response.Headers.XContentTypeOptions = "nosniff";
                }
                var heldCount = await content.ReadAtLeastAsync(held.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, ct);
                while (heldCount > 0)
                {
                    var nextCount = await content.ReadAtLeastAsync(next.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, ct);
                    await http.Response.Body.WriteAsync(held.AsMemory(0, heldCount), ct);
                    (held, next, heldCount) = (next, held, nextCount);
                }
                http.RequestServices.GetService<Hosting.RegistryMetrics>()?.Sent(artifact.Info.SizeBytes);
            }
            catch (ArtifactCorruptedException corrupted)
            {
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(ArtifactRoutes.LogCategory)
                    .LogError(corrupted, "Refused to serve corrupted artifact {Sha256}", info.Sha256);
                if (http.Response.HasStarted)
                {
                    http.Abort();
                    return;
                }
                http.Response.Headers.Remove(HeaderNames.ETag);
                http.Response.Headers.Remove(HeaderNames.CacheControl);
                http.Response.ContentLength = null;
                http.Response.Headers.ContentDisposition = default;
                await Infrastructure.Problems.Problem(StatusCodes.Status500InternalServerError, "Artifact corrupted",
                    $"The stored bytes of artifact {info.Sha256} do not match its SHA-256; it is not served.").ExecuteAsync(http);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(held);
                ArrayPool<byte>.Shared.Return(next);
            }
        }
    }
}
