using System.Text.Json;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.ModelVersions;

/// <summary>A model version as the API shows it: the version view plus its model's current name.</summary>
public sealed record ModelVersionResponse(
    string Model,
    int Version,
    string Stage,
    ArtifactReference Artifact,
    Lineage? Lineage,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Tags,
    string? Description,
    JsonElement? Metadata,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<string> Deployments,
    string? DownloadUrl = null)
{
    /// <summary><c>artifact.verified</c> is always shown: false for a reference whose bytes the registry never hashed (see <see cref="ArtifactReference.IsVerified"/>).</summary>
    public static ModelVersionResponse From(string model, ModelVersionView view) =>
        new(model, view.VersionNumber, view.Stage, view.Artifact with { Verified = view.Artifact.IsVerified() }, view.Lineage, view.Params, view.Metrics, view.Tags,
            view.Description, view.Metadata, view.Aliases, view.Deployments,
            // Bytes held by the registry's own store are served by it; an external artifact is fetched from its uri.
            view.Artifact.Uri is null && view.Artifact.Sha256.Length > 0 ? Artifacts.ArtifactRoutes.UriOf(view.Artifact.Sha256) : null);

    public static string Location(string model, int version) =>
        $"/api/v1/models/{Uri.EscapeDataString(model)}/versions/{version}";
}
