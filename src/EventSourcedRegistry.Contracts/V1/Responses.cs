using System.Text.Json;

namespace EventSourcedRegistry.Contracts.V1;

// The registry's answers as the .NET client reads them; property names follow the API's camelCase JSON. A drift test
// (tests/EventSourcedRegistry.Api.Tests/Contracts) reads real answers into them and fails on any field lost or invented.

public sealed record ModelInfo(
    Guid Id,
    string Name,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    bool Archived,
    int LatestVersion,
    IReadOnlyDictionary<string, List<int>> VersionsByStage,
    IReadOnlyDictionary<string, int> Aliases,
    IReadOnlyDictionary<string, int> Deployments,
    long Revision,
    long? AsOfSequence = null,
    DateTimeOffset? AsOf = null,
    IReadOnlyList<PendingRequestInfo>? PendingRequests = null,
    string? NormalizedName = null,
    JsonElement? MetadataSchema = null);

/// <summary>
/// A transition request waiting for approval, as the model view holds it (<c>pendingRequests</c>);
/// a read of the request itself (<see cref="TransitionRequestInfo"/>) answers it with the approvals that count.
/// </summary>
public sealed record PendingRequestInfo(
    Guid Id,
    string Kind,
    int VersionNumber,
    string Target,
    bool ArchiveExisting,
    string Sha256,
    string RequestedBy,
    string? RequesterOwner,
    string? Reason,
    DateTimeOffset RequestedAt,
    IReadOnlyList<PendingApprovalInfo>? Approvals = null,
    string? State = null,
    string? RequesterKeyId = null,
    IReadOnlyList<string>? RequesterKeyIssuers = null,
    bool IsPending = true);

/// <summary>An approval as the model view holds it; <c>owner</c>, <c>keyId</c> and <c>issuers</c> are absent for approvals from before owners.</summary>
public sealed record PendingApprovalInfo(string Approver, string Sha256, DateTimeOffset ApprovedAt, string? Reason, string? Owner = null,
    string? KeyId = null, IReadOnlyList<string>? Issuers = null);

public sealed record ModelPage(IReadOnlyList<ModelInfo> Items, string? NextCursor);

/// <param name="Verified">Whether the registry itself hashed the bytes <paramref name="Sha256"/> names (false: an external reference).</param>
public sealed record ArtifactReference(string? Uri, string Sha256, long? SizeBytes, bool? Verified = null);

public sealed record DatasetReference(string Uri, string? Digest = null);

public sealed record Lineage(
    string? RunId = null,
    string? SourceRepository = null,
    string? SourceCommit = null,
    IReadOnlyList<DatasetReference>? Datasets = null,
    string? RunLink = null);

public sealed record ModelVersionInfo(
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
    string? DownloadUrl = null,
    long? AsOfSequence = null,
    DateTimeOffset? AsOf = null);

public sealed record ModelVersionPage(IReadOnlyList<ModelVersionInfo> Items, string? NextCursor, long? AsOfSequence = null);

public sealed record AliasInfo(string Model, string Alias, int Version, long Revision);

public sealed record DeploymentInfo(string Model, int Version, string Environment, string? Target, string Action, long Revision);

public sealed record HistoryEntry(
    long Sequence,
    long Revision,
    string Type,
    DateTimeOffset Timestamp,
    string? Actor,
    string? Reason,
    string? CorrelationId,
    string? CausationId,
    JsonElement Data);

public sealed record HistoryPage(string Model, IReadOnlyList<HistoryEntry> Items, string? NextCursor);

public sealed record RegistryModelState(
    string Model,
    Guid ModelId,
    bool Archived,
    IReadOnlyDictionary<string, List<int>> VersionsByStage,
    IReadOnlyDictionary<string, int> Aliases,
    IReadOnlyDictionary<string, int> Deployments);

public sealed record RegistryPage(IReadOnlyList<RegistryModelState> Items, string? NextCursor, long? AsOfSequence = null, DateTimeOffset? AsOf = null);

public sealed record RegistryChange(
    long Sequence,
    DateTimeOffset Timestamp,
    string? Model,
    Guid ModelId,
    string Type,
    int Version,
    string? FromStage,
    string? ToStage,
    string? Alias,
    int? PreviousVersion,
    string? Environment,
    string? Target,
    string? Actor,
    string? Reason,
    string? CorrelationId);

public sealed record RegistryChangesPage(long FromSequence, long ToSequence, IReadOnlyList<RegistryChange> Items, string? NextCursor);

/// <summary><c>RequiresApproval</c>: the change would move a version into a protected stage or move a protected alias.</summary>
public sealed record RollbackChange(string Kind, string Subject, int? Version, string? From, string? To, bool RequiresApproval = false);

/// <summary><c>ApprovalRequired</c>: the plan holds changes that need four-eyes approval, so applying it is refused (409).</summary>
public sealed record RollbackOutcome(string Model, long AsOfSequence, DateTimeOffset? AsOf, bool DryRun, bool Applied,
    IReadOnlyList<RollbackChange> Plan, long Revision, bool ApprovalRequired = false);

public sealed record AuditEntry(
    long Sequence,
    DateTimeOffset Timestamp,
    Guid ModelId,
    string? ModelName,
    int? Version,
    string EventType,
    string? Actor,
    string? Reason,
    string? CorrelationId,
    string? CausationId,
    string Summary);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, string? NextCursor, long CompleteThrough, long HighWaterMark, long Lag);

/// <summary>
/// <c>GET /api/v1/audit/verify</c>: <see cref="State"/> is <c>verified</c>, <c>incomplete</c> (the chain does not reach
/// every stored event; see <see cref="FirstUnchainedSequence"/>) or <c>broken</c>; <see cref="Mode"/> is
/// <c>incremental</c> (links after <see cref="FromSequence"/>, a signed checkpoint) or <c>full</c>.
/// </summary>
public sealed record ChainVerification(
    bool Verified,
    long Events,
    string? Head,
    long HeadSequence,
    long? FirstBrokenSequence,
    string? Problem,
    int Checkpoints,
    long HighWaterMark,
    string? State = null,
    string? Mode = null,
    long FromSequence = 0,
    long? FirstUnchainedSequence = null,
    long StoreHeadSequence = 0);

public sealed record ArtifactInfo(string Sha256, long SizeBytes, string Uri, string? FileName = null);

public sealed record ArtifactVerification(string Sha256, long SizeBytes, bool Verified, string ActualSha256, long ActualSizeBytes);

/// <summary>A role, registry-wide (no model) or for one model: reader, contributor, approver, auditor or admin; <c>Workspace</c>: where a platform key's grant holds.</summary>
public sealed record ApiKeyGrant(string Role, string? Model = null, Guid? ModelId = null, string? Workspace = null)
{
    /// <summary><c>reader</c> or <c>contributor:churn</c>.</summary>
    public static ApiKeyGrant Parse(string value) =>
        value.Split(':', 2) is [var role, var model] ? new ApiKeyGrant(role, model) : new ApiKeyGrant(value);

    public override string ToString() => Model is null ? Role : $"{Role}:{Model}";
}

/// <summary>
/// A key without its secret: <c>Owner</c> is the person or service it belongs to, <c>Issuers</c> the owners who made it (up the
/// chain), <c>Workspace</c> the key's own (a slug, or <c>~platform</c>), <c>Actor</c> the name its calls are recorded under.
/// </summary>
public sealed record ApiKeyInfo(string Id, string Name, string Owner, IReadOnlyList<string> Issuers, IReadOnlyList<ApiKeyGrant> Grants,
    string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? RevokedBy, string? Workspace = null, string? Actor = null);

public sealed record CreatedApiKey(string Id, string Name, string Owner, IReadOnlyList<string> Issuers, string Key, IReadOnlyList<ApiKeyGrant> Grants,
    string CreatedBy, DateTimeOffset CreatedAt);

public sealed record ApiKeyList(IReadOnlyList<ApiKeyInfo> Items);

public sealed record ApprovalInfo(string Approver, string Sha256, DateTimeOffset ApprovedAt, DateTimeOffset ExpiresAt, string? Reason,
    string? ApproverOwner = null, string? ApproverKeyId = null);

/// <summary>A transition request (four-eyes approval): <c>kind</c> "stage" or "alias", <c>state</c> pending, approved, rejected or superseded.</summary>
public sealed record TransitionRequestInfo(
    Guid Id,
    string Model,
    string Kind,
    int Version,
    string Target,
    bool ArchiveExisting,
    string Sha256,
    string RequestedBy,
    string? Reason,
    DateTimeOffset RequestedAt,
    string State,
    int ApprovalsRequired,
    int ApprovalsValid,
    IReadOnlyList<ApprovalInfo> Approvals,
    string? ClosedBy,
    string? ClosedReason,
    DateTimeOffset? ClosedAt,
    Guid? SupersededBy,
    string? RequesterOwner = null,
    string? RequesterKeyId = null,
    string? ArtifactUri = null,
    bool? ArtifactVerified = null);

public sealed record TransitionRequestList(string Model, IReadOnlyList<TransitionRequestInfo> Items, string? NextCursor = null);

/// <summary>A workspace as the directory shows it: its slug (its address, never changed) and display name.</summary>
public sealed record WorkspaceInfo(string Slug, string DisplayName, DateTimeOffset? CreatedAt, bool Archived, DateTimeOffset? ArchivedAt, string Href);

public sealed record WorkspaceList(IReadOnlyList<WorkspaceInfo> Items);

/// <summary>
/// Every refusal: an RFC 9457 ProblemDetails. <see cref="Errors"/> (field → messages) on a 400 for invalid input;
/// <see cref="Extensions"/> holds the members a refusal adds (the trace id, a conflict's current revision, …).
/// </summary>
public sealed record RegistryProblem(
    string? Type,
    string? Title,
    int? Status,
    string? Detail,
    IReadOnlyDictionary<string, string[]>? Errors = null)
{
    [System.Text.Json.Serialization.JsonExtensionData]
    public Dictionary<string, JsonElement>? Extensions { get; init; }
}

/// <summary><c>GET /api/v1/models/{name}/metadata-schema</c>: the model's metadata standard.</summary>
public sealed record MetadataSchemaInfo(string? Model, JsonElement Schema, long Revision);

/// <summary>Where a stage or deployment interval began or ended: the event's sequence and time, who and why.</summary>
public sealed record IntervalEnd(long Sequence, DateTimeOffset At, string? Actor, string? Reason);

/// <summary>One span of time during which a version was in a stage (<c>kind</c> stage), or deployed in an environment (deployment); <c>left</c> absent while it lasts.</summary>
public sealed record DeploymentInterval(string Kind, int Version, string? Stage, string? Environment, string? Target,
    IntervalEnd Entered, IntervalEnd? Left);

public sealed record DeploymentHistoryPage(string Model, IReadOnlyList<DeploymentInterval> Items, string? NextCursor);

/// <summary>One model in a registry rollback: <c>outcome</c> planned (a dry run), rolledBack, unchanged or failed (with <c>error</c>).</summary>
public sealed record ModelRollbackOutcome(string Model, string Outcome, IReadOnlyList<RollbackChange> Plan, long? Revision, string? Error,
    bool ApprovalRequired = false);

public sealed record RegistryRollbackOutcome(long AsOfSequence, DateTimeOffset? AsOf, bool DryRun, int RolledBack, int Unchanged,
    int Failed, IReadOnlyList<ModelRollbackOutcome> Models);

/// <summary>
/// A registry-wide rollback under way or finished (<c>GET /api/v1/registry/rollbacks/{id}</c>, readable from any node):
/// <c>state</c> running while a model is <c>pending</c>, then completed; each model rolledBack, unchanged, failed (with
/// <c>error</c>: refused or faulted) or pending.
/// </summary>
public sealed record RegistryRollbackStatus(Guid Id, string State, long AsOfSequence, DateTimeOffset? AsOf, string Reason, string RequestedBy,
    DateTimeOffset RequestedAt, int Pending, int RolledBack, int Unchanged, int Failed, IReadOnlyList<ModelRollbackOutcome> Models);

/// <summary>A signed audit checkpoint: <c>message</c> is the text signed, <c>signature</c> its signature under <c>keyId</c>.</summary>
public sealed record CheckpointInfo(long Sequence, string Head, DateTimeOffset SignedAt, string KeyId, string Algorithm, string Message,
    string Signature, string Workspace);

public sealed record CheckpointPage(IReadOnlyList<CheckpointInfo> Items, string? NextCursor);

/// <summary>A stored artifact no model version references (admin).</summary>
public sealed record OrphanArtifactInfo(string Sha256, long SizeBytes, DateTimeOffset StoredAt);

public sealed record OrphanArtifactList(IReadOnlyList<OrphanArtifactInfo> Orphans, int Count, long TotalBytes);

/// <summary>One workspace's line in the operator's verdict: its slug and its chain's verdict (as <c>/audit/verify</c> gives it).</summary>
public sealed record WorkspaceChainVerification(string Workspace, bool Verified, string State, string Mode, long FromSequence, long Events,
    string? Head, long HeadSequence, long? FirstBrokenSequence, long? FirstUnchainedSequence, string? Problem, int Checkpoints,
    long StoreHeadSequence);

/// <summary>The operator's chain over every workspace's checkpoint heads.</summary>
public sealed record OperatorChainVerification(bool Verified, long Links, string? Head, long? FirstBrokenPosition, string? Problem);

/// <summary><c>GET /api/v1/platform/audit/verify</c>: verified only when the operator's chain and every workspace's chain verify.</summary>
public sealed record OperatorVerification(bool Verified, string Mode, OperatorChainVerification OperatorChain,
    IReadOnlyList<WorkspaceChainVerification> Workspaces);

/// <summary>
/// A webhook subscription: never its secret. <c>cursor</c> is the last sequence handed to the receiver (or skipped as not
/// of interest, or dead-lettered); <c>attempts</c>, <c>failingSince</c>, <c>nextAttemptAt</c> and <c>lastError</c> describe
/// the delivery now being retried.
/// </summary>
public sealed record SubscriptionInfo(Guid Id, string TargetUrl, IReadOnlyList<string> EventTypes, string? Model, Guid? ModelId, string Status,
    string? PausedReason, long Cursor, int Attempts, DateTimeOffset? FailingSince, DateTimeOffset? NextAttemptAt, string? LastError,
    DateTimeOffset? LastDeliveredAt, int DeadLetters, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>A subscription with its signing secret: shown this once (on creation and on rotation).</summary>
public sealed record SubscriptionWithSecret(string Secret, SubscriptionInfo Subscription);

public sealed record SubscriptionList(IReadOnlyList<SubscriptionInfo> Items);

public sealed record DeadLetterInfo(long Sequence, string EventType, Guid ModelId, int Attempts, string? LastError, DateTimeOffset DeadAt,
    DateTimeOffset? ReplayRequestedAt, string? ReplayError);

public sealed record DeadLetterList(IReadOnlyList<DeadLetterInfo> Items);

/// <summary>The dead letters marked for delivery again; the dispatcher sends each once more (a failure leaves it listed, with its error).</summary>
public sealed record ReplayAccepted(IReadOnlyList<long> Sequences);
