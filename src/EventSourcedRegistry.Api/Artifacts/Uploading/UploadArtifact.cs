using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Settings;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Artifacts.Uploading;

public static class UploadArtifactEndpoint
{
    private const int MaxFileNameLength = 255;

    /// <summary>
    /// Streams the raw request body into the artifact store: hashed as it arrives, never buffered whole, kept
    /// under its SHA-256 only if new. A client's file name (Content-Disposition) is echoed back and used for
    /// nothing else. The answer does not say whether someone else stored the same bytes before: 201 unless the caller
    /// could already read them (its own earlier upload, a model it may read, a registry-wide role), then 200.
    /// </summary>
    [Authorize(Policy = Policies.Contribute)]
    [OpaqueBody]
    [ProducesResponseType<Wire.ArtifactInfo>(StatusCodes.Status201Created)]
    [ProducesResponseType<Wire.ArtifactInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status422UnprocessableEntity, StatusCodes.Status507InsufficientStorage)]
    [WolverinePost("/api/v1/artifacts", OperationId = "UploadArtifact")]
    public static async Task<IResult> Post(HttpContext http, IArtifactStore store, ArtifactSettings settings, ArtifactAccess access, ArtifactQuota quota,
        WorkspaceLimits limits)
    {
        var ct = http.RequestAborted;
        string? expected = null;
        var declared = http.Request.Headers[ArtifactRoutes.DigestHeader].ToString();
        // Trimmed: whitespace around a header's value is not part of it (RFC 9110, 5.5).
        if (declared.Length > 0 && !Sha256Digest.TryParse(declared.Trim(), out expected, out var problem))
            return Problems.Validation([(ArtifactRoutes.DigestHeader, $"{ArtifactRoutes.DigestHeader} {problem} Give {Sha256Digest.AcceptedForms}.")]);

        var (result, refused) = await Intake(http, store, settings, quota, limits, expected);
        if (refused is not null) return refused;
        // Asked before this upload is recorded: could the caller read these bytes without it?
        var couldRead = await access.MayRead(http.Workspace(), http.User, result!.Sha256, ct);
        await access.RecordUpload(http.Workspace(), http.User, result.Sha256, ct);
        var response = new Wire.ArtifactInfo(result.Sha256, result.SizeBytes, ArtifactRoutes.UriOf(result.Sha256), FileName(http.Request));
        var status = result.Outcome == ArtifactPutOutcome.AlreadyStored && couldRead ? StatusCodes.Status200OK : StatusCodes.Status201Created;
        return Results.Json(response, Json.Options, statusCode: status).WithLocation(http, response.Uri);
    }

    /// <summary>
    /// The request body into the workspace's store under the upload size limit and the workspace's quota (every upload counts
    /// as new bytes): the stored result, or the refusal (413, 422 for a declared digest the bytes miss, 507). Shared by every
    /// door that takes artifact bytes (this endpoint, MLflow's artifact proxy).
    /// </summary>
    public static async Task<(ArtifactPutResult? Stored, IResult? Refused)> Intake(HttpContext http, IArtifactStore store, ArtifactSettings settings,
        ArtifactQuota quota, WorkspaceLimits limits, string? expected)
    {
        var ct = http.RequestAborted;
        var limit = settings.MaxUploadBytes;
        if (http.Request.ContentLength > limit) return (null, TooLarge(limit));
        // Kestrel's server-wide default (30 MB) would refuse a model file; artifact uploads allow the configured limit.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
            bodyLimit.MaxRequestBodySize = limit;

        ArtifactQuota.Reservation? reservation = null;
        // Read now, not this node's copy: an admin who lowered the quota on another node is obeyed by the next upload.
        var quotaBytes = (await limits.FreshAsync(http.Workspace(), ct)).ArtifactQuotaBytes;
        if (quotaBytes.Value is { } room)
        {
            reservation = await quota.Reserve(http.Workspace(), room, http.Request.ContentLength, ct);
            if (reservation is null) return (null, QuotaExceeded(quotaBytes));
        }
        try
        {
            var maxBytes = Math.Min(limit, reservation?.Bytes ?? limit);
            var result = await store.PutAsync(http.Request.Body, new ArtifactPutOptions(expected, maxBytes), ct);
            if (result.Stored)
            {
                http.RequestServices.GetService<Hosting.RegistryMetrics>()?.Received(result.SizeBytes);
                return (result, null);
            }
            return (null, result.Outcome switch
            {
                ArtifactPutOutcome.DigestMismatch => Problems.Problem(StatusCodes.Status422UnprocessableEntity, "Digest mismatch",
                    $"The uploaded bytes hash to {result.Sha256}, not to the declared {expected}; nothing was stored."),
                ArtifactPutOutcome.TooLarge when maxBytes < limit => QuotaExceeded(quotaBytes),
                ArtifactPutOutcome.TooLarge => TooLarge(limit),
                _ => throw new InvalidOperationException($"Unexpected upload outcome {result.Outcome}."),
            });
        }
        finally
        {
            if (reservation is not null) await quota.Release(reservation);
        }
    }

    /// <summary>
    /// 507: the workspace's artifacts fill its quota, which no smaller request of this caller fixes (413 is one upload over
    /// the size limit). It names the quota, not what is stored: how full the store is would tell a caller whether its last
    /// upload added bytes, that is, whether someone else had stored them.
    /// </summary>
    private static IResult QuotaExceeded(Sourced<long?> quota) =>
        Problems.Problem(StatusCodes.Status507InsufficientStorage, "Artifact quota exceeded",
            $"The workspace's artifact store has no room for this upload under its quota of {quota.Value} bytes " +
            $"({(quota.Source == PolicySources.Workspace ? "the workspace's policy, artifactQuotaBytes" : ArtifactSettings.Section + ":QuotaBytes")}); " +
            "every upload counts as new bytes. Nothing was stored.");

    private static IResult TooLarge(long limit) =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Artifact too large",
            $"Artifacts are limited to {limit} bytes (Registry:Artifacts:MaxUploadBytes); nothing was stored.");

    private static IResult WithLocation(this IResult result, HttpContext http, string location)
    {
        http.Response.Headers.Location = location;
        return result;
    }

    /// <summary>The file name a client gave, for display only: control characters dropped, length capped.</summary>
    private static string? FileName(HttpRequest request)
    {
        if (!ContentDispositionHeaderValue.TryParse(request.Headers.ContentDisposition.ToString(), out var disposition)) return null;
        var name = (disposition.FileNameStar.HasValue ? disposition.FileNameStar : HeaderUtilities.RemoveQuotes(disposition.FileName)).ToString();
        name = new string(name.Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (name.Length == 0) return null;
        return name.Length <= MaxFileNameLength ? name : name[..MaxFileNameLength];
    }
}
