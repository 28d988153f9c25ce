using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Artifacts;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Artifacts.Verifying;

public static class VerifyArtifactEndpoint
{
    /// <summary>Re-hashes a stored artifact: <c>verified</c> is false when its bytes no longer match their digest.</summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.ArtifactVerification>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/artifacts/{sha256}/verify", OperationId = "VerifyArtifact")]
    public static async Task<IResult> Get(string sha256, HttpContext http, IArtifactStore store, ArtifactAccess access, ILoggerFactory loggers)
    {
        if (!ArtifactRoutes.TryParse(sha256, out var digest, out var problem)) return problem!;
        if (!await access.MayRead(http.Workspace(), http.User, digest, http.RequestAborted)) return ArtifactRoutes.NotFound(digest);
        var verification = await store.VerifyAsync(digest, http.RequestAborted);
        if (verification is null) return ArtifactRoutes.NotFound(digest);
        if (!verification.Verified)
            loggers.CreateLogger(ArtifactRoutes.LogCategory).LogError("Artifact {Sha256} is corrupted: its stored bytes hash to {Actual}", digest, verification.ActualSha256);
        return Results.Json(verification, Json.Options);
    }
}
