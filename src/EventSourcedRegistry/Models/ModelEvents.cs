using System.Text.Json;

namespace EventSourcedRegistry.Models;

// The event catalogue of one registered model's stream. Events are a permanent contract: never edit a
// shipped shape; add a new event or an upcaster instead (see CHANGELOG "Event Schema Changes").

public sealed record ModelRegistered(
    Guid ModelId,
    string Name,
    string? Description,
    IReadOnlyDictionary<string, string> Tags);

public sealed record ModelRenamed(Guid ModelId, string OldName, string NewName);

/// <summary>Description is null when unchanged; an empty string clears it.</summary>
public sealed record ModelMetadataEdited(
    Guid ModelId,
    string? Description,
    IReadOnlyDictionary<string, string> SetTags,
    IReadOnlyList<string> RemovedTags);

public sealed record ModelArchived(Guid ModelId);

public sealed record ModelRestored(Guid ModelId);

/// <summary>Stage is the lifecycle's initial stage when the version was registered, recorded so replay never depends on configuration.</summary>
public sealed record ModelVersionRegistered(
    Guid ModelId,
    int Version,
    string Stage,
    ArtifactReference Artifact,
    Lineage? Lineage,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Tags,
    string? Description,
    JsonElement? Metadata);

/// <summary>Description null = unchanged, empty = cleared; Metadata null = unchanged, otherwise replaced.</summary>
public sealed record ModelVersionMetadataEdited(
    Guid ModelId,
    int Version,
    string? Description,
    IReadOnlyDictionary<string, string> SetTags,
    IReadOnlyList<string> RemovedTags,
    JsonElement? Metadata);

public sealed record ModelVersionStageTransitioned(
    Guid ModelId,
    int Version,
    string FromStage,
    string ToStage,
    string? Reason);

public sealed record ModelAliasAssigned(Guid ModelId, string Alias, int Version, int? PreviousVersion);

public sealed record ModelAliasRemoved(Guid ModelId, string Alias, int Version);

/// <summary>
/// A CD system reports a version running in an environment (optionally one target within it, e.g. a region or
/// endpoint). A slot (environment, target) holds one version; PreviousVersion is the one this deployment replaced.
/// </summary>
public sealed record ModelVersionDeployed(Guid ModelId, int Version, string Environment, string? Target, int? PreviousVersion);

public sealed record ModelVersionUndeployed(Guid ModelId, int Version, string Environment, string? Target);

/// <summary>
/// A release manager rolled the model's stages and aliases back to how they stood at TargetSequence (resolved from
/// TargetInstant when one was given). The compensating transitions and alias moves follow in the same commit.
/// </summary>
public sealed record RollbackPerformed(Guid ModelId, long TargetSequence, DateTimeOffset? TargetInstant, string Reason, int Changes);

/// <summary>
/// The model was deleted: a tombstone, not an erasure. Its events stay (history, audit, the hash chain and reads as of
/// earlier points still show it); its current views go, its name is freed for a new model (a new stream), and its stream
/// accepts no further command. Name and LatestVersion are recorded so projections know what to remove without a read.
/// </summary>
public sealed record ModelDeleted(Guid ModelId, string Name, int LatestVersion, string? Reason);

/// <summary>
/// One version was deleted: its view goes, its aliases and stage with it; its number is never given out again. Stage is
/// the stage it left, recorded so replay never depends on the state.
/// </summary>
public sealed record ModelVersionDeleted(Guid ModelId, int Version, string Stage, string? Reason);

/// <summary>
/// Where a version's bytes are: an external URI, or (without one) the registry's own artifact store. Sha256 is empty for
/// an unverified reference: an external URI registered without a digest (an MLflow <c>source</c>), whose bytes the
/// registry has never seen. <see cref="Verified"/> true: the URI names files on the registry's own store (an
/// <c>mlflow-artifacts:</c> source) and Sha256 is the digest the registry computed over them (their manifest); absent
/// from events recorded before it existed, and from versions on the store by digest (Uri null), which are verified anyway.
/// </summary>
public sealed record ArtifactReference(string? Uri, string Sha256, long? SizeBytes, bool? Verified = null)
{
    /// <summary>Whether the registry itself hashed the bytes Sha256 names: only then does four eyes bind to bytes, not to a URI string.</summary>
    public bool IsVerified() => Uri is null ? Sha256.Length > 0 : Verified == true;
}

/// <summary>RunLink: a link to the training run (MLflow's <c>run_link</c>); absent from events recorded before it existed.</summary>
public sealed record Lineage(
    string? RunId,
    string? SourceRepository,
    string? SourceCommit,
    IReadOnlyList<DatasetReference>? Datasets,
    string? RunLink = null);

public sealed record DatasetReference(string Uri, string? Digest);
