using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.ModelVersions;

/// <summary>A model version as the API shows it (the shared contract <see cref="Wire.ModelVersionInfo"/>): the version view plus its model's current name.</summary>
public static class ModelVersionResponse
{
    /// <summary><c>artifact.verified</c> is always shown: false for a reference whose bytes the registry never hashed (see <see cref="ArtifactReference.IsVerified"/>).</summary>
    public static Wire.ModelVersionInfo From(string model, ModelVersionView view) =>
        new(model, view.VersionNumber, view.Stage, ToWire(view.Artifact with { Verified = view.Artifact.IsVerified() }), ToWire(view.Lineage),
            view.Params, view.Metrics, view.Tags, view.Description, view.Metadata, view.Aliases, view.Deployments,
            // Bytes held by the registry's own store are served by it; an external artifact is fetched from its uri.
            view.Artifact.Uri is null && view.Artifact.Sha256.Length > 0 ? Artifacts.ArtifactRoutes.UriOf(view.Artifact.Sha256) : null);

    public static string Location(string model, int version) =>
        $"/api/v1/models/{Uri.EscapeDataString(model)}/versions/{version}";

    public static Wire.ArtifactReference ToWire(ArtifactReference artifact) =>
        new(artifact.Uri, artifact.Sha256, artifact.SizeBytes, artifact.Verified);

    public static Wire.Lineage? ToWire(Lineage? lineage) =>
        lineage is null ? null : new(lineage.RunId, lineage.SourceRepository, lineage.SourceCommit,
            lineage.Datasets?.Select(d => new Wire.DatasetReference(d.Uri, d.Digest)).ToList(), lineage.RunLink);
}
