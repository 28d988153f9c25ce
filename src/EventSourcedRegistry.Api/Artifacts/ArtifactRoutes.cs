using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Contracts;

namespace EventSourcedRegistry.Api.Artifacts;

public static class ArtifactRoutes
{
    public const string DigestHeader = "X-Content-SHA256";
    public const string LogCategory = "EventSourcedRegistry.Artifacts";

    /// <summary>
    /// Where the registry serves a stored artifact, through the prefix the request came through (a workspace's bytes
    /// are served in that workspace). The request is read from the ambient context, which the host keeps
    /// (AddHttpContextAccessor), rather than threaded through every response that names an artifact.
    /// </summary>
    public static string UriOf(string sha256) =>
        Workspaces.WorkspaceAddressing.Link(new HttpContextAccessor().HttpContext, $"/api/v1/artifacts/{sha256}");

    /// <summary>The route's digest, or the 400 that refuses it. Nothing else a client sends ever names stored bytes.</summary>
    public static bool TryParse(string raw, out string sha256, out IResult? problem)
    {
        problem = null;
        if (Sha256Digest.TryParse(raw, out sha256, out var why)) return true;
        problem = Problems.Problem(StatusCodes.Status400BadRequest, "Invalid artifact digest",
            $"Artifacts are named by their SHA-256: {why} Give {Sha256Digest.AcceptedForms}.");
        return false;
    }

    public static string ETagOf(string sha256) => $"\"{sha256}\"";

    /// <summary>
    /// The one answer for a digest that is not stored and for one the caller may not read (see <see cref="ArtifactAccess"/>):
    /// the same status, title and detail, so a caller learns nothing of bytes it may not read.
    /// </summary>
    public static IResult NotFound(string sha256) =>
        Problems.Problem(StatusCodes.Status404NotFound, "Artifact not found",
            $"No artifact with SHA-256 {sha256} is available to this caller: none is stored, or no model it may read references it.");
}
