using System.Text.Json;

namespace EventSourcedRegistry.Contracts.V1.Requests;

// The request bodies the API binds (/api/v1), as the .NET client sends them. Every member is nullable: a missing field is
// the API's 400 naming it, never a binding fault.

// Approvals
/// <summary><c>sha256</c>: the artifact digest the approver reviewed (optional; it must be the version's).</summary>
public sealed record ApproveTransitionRequest(string? Sha256, string? Reason);

public sealed record RejectTransitionRequest(string? Reason);

// Models / Editing
/// <summary>Description: omitted = unchanged, "" = cleared.</summary>
public sealed record EditModel(string? Description, Dictionary<string, string>? SetTags, List<string>? RemoveTags);

// Models / Renaming
public sealed record RenameModel(string? NewName, string? Reason);

// Models / Archiving
public sealed record ArchiveModel(string? Reason);

// Models / MetadataSchema
/// <summary>A JSON Schema for the metadata of the model's new versions, and why it is set.</summary>
public sealed record SetMetadataSchema(JsonElement? Schema, string? Reason);

// Models / Registering
public sealed record RegisterModel(string? Name, string? Description, Dictionary<string, string>? Tags);

// Access / Keys
public sealed record GrantRequest(string? Role, string? Model);

/// <summary><c>owner</c>: the person or service the key belongs to (required, never changed); <c>reason</c> goes into the event.</summary>
public sealed record CreateApiKey(string? Name, string? Owner, List<GrantRequest?>? Grants, string? Reason = null);

/// <summary>A platform key's grant: a role in one workspace (for one model of it, optionally), or <c>platform-admin</c> alone.</summary>
public sealed record PlatformGrantRequest(string? Role, string? Workspace, string? Model);

public sealed record CreatePlatformKey(string? Name, string? Owner, List<PlatformGrantRequest?>? Grants, string? Reason = null);

// Aliases
// "Version" here is a model version number, bound from the body by this endpoint alone (no Wolverine aggregate workflow).
public sealed record AssignAlias(int? Version, string? Reason);

public sealed record RemoveAlias(string? Reason);

// Admin
public sealed record RebuildProjections(string? Projection);

// Rollback
public sealed record RollBackModel(string? AsOf, long? AtSequence, string? Reason, bool? DryRun);

public sealed record RollBackRegistry(string? AsOf, long? AtSequence, string? Reason, bool? DryRun, List<string>? Models);

// Deployments
// "Version" is a model version number here; this endpoint binds it itself (no Wolverine aggregate workflow).
public sealed record ReportDeployment(int? Version, string? Environment, string? Target, string? Action, string? Reason);

// ModelVersions / Editing
/// <summary>Description: omitted = unchanged, "" = cleared. Metadata: omitted = unchanged, otherwise replaced. Metrics and lineage are facts of training and cannot be edited.</summary>
public sealed record EditModelVersion(string? Description, Dictionary<string, string>? SetTags, List<string>? RemoveTags, JsonElement? Metadata);

// ModelVersions / Promoting
public sealed record TransitionModelVersionStage(string? Stage, string? Reason, bool? ArchiveExisting);

// ModelVersions / Registering
public sealed record ArtifactInput(string? Uri, string? Sha256, long? SizeBytes);

public sealed record DatasetInput(string? Uri, string? Digest = null);

public sealed record LineageInput(string? RunId = null, string? SourceRepository = null, string? SourceCommit = null, List<DatasetInput>? Datasets = null);

/// <summary>A version to register: <see cref="Artifact"/> is <c>{sha256}</c> of an uploaded artifact or an external <c>{uri, sha256, sizeBytes}</c>.</summary>
public sealed record RegisterModelVersion(
    ArtifactInput? Artifact,
    LineageInput? Lineage = null,
    Dictionary<string, string>? Params = null,
    Dictionary<string, double>? Metrics = null,
    Dictionary<string, string>? Tags = null,
    string? Description = null,
    JsonElement? Metadata = null);

// Workspaces / Creating
public sealed record CreateWorkspace(string? Slug, string? DisplayName);

// Workspaces / Renaming
public sealed record RenameWorkspace(string? DisplayName, string? Reason);

// Workspaces / Archiving
public sealed record ArchiveWorkspace(string? Reason);

// Webhooks
/// <summary>
/// <c>targetUrl</c>: http(s), public unless the operator allows it; <c>eventTypes</c>: the delivered types' names (none: all);
/// <c>model</c>: only that model's events; <c>startAfterSequence</c>: deliver events after this sequence (default: from now).
/// </summary>
public sealed record CreateSubscription(string? TargetUrl, List<string?>? EventTypes = null, string? Model = null, long? StartAfterSequence = null,
    string? Reason = null);
