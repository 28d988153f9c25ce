namespace EventSourcedRegistry.Approvals;

// Four-eyes approval of protected transitions (issue 5). Like every event these are a permanent contract.
// Times come from the deciding node's clock (TimeProvider) so that approval expiry is decided, and replayed,
// against values recorded in the events; folds never read a clock.

/// <summary>
/// Somebody asked for a protected transition: <see cref="Kind"/> <c>stage</c> (version enters stage
/// <see cref="Target"/>, archiving the others there when <see cref="ArchiveExisting"/>) or <c>alias</c>
/// (alias <see cref="Target"/> moves to the version). <see cref="Sha256"/> is the version's artifact digest
/// the request is about; approvals bind to it. The request supersedes any pending one of the same kind and target.
/// <see cref="RequesterOwner"/>, <see cref="RequesterKeyId"/> and <see cref="RequesterKeyIssuers"/> record who the
/// requester is as four eyes judges it (see <see cref="Access.Principal"/>); null in events from before owners
/// existed, which stand for <see cref="Access.Principal.FromActor"/> of <see cref="RequestedBy"/>.
/// </summary>
public sealed record TransitionRequested(
    Guid ModelId,
    Guid RequestId,
    string Kind,
    int Version,
    string Target,
    bool ArchiveExisting,
    string Sha256,
    string RequestedBy,
    string? Reason,
    DateTimeOffset RequestedAt,
    string? RequesterOwner = null,
    string? RequesterKeyId = null,
    IReadOnlyList<string>? RequesterKeyIssuers = null);

/// <summary>
/// An approver approved the request, having reviewed the artifact with digest <see cref="Sha256"/>.
/// <see cref="Completes"/> is true when this was the last approval needed: the transition's own events
/// (stage transitions, alias move) follow in the same commit. <see cref="ApproverOwner"/>, <see cref="ApproverKeyId"/>
/// and <see cref="ApproverKeyIssuers"/> record who the approver is as four eyes judged it; null in events from before
/// owners existed, which stand for <see cref="Access.Principal.FromActor"/> of <see cref="Approver"/>.
/// </summary>
public sealed record TransitionApproved(
    Guid ModelId,
    Guid RequestId,
    string Approver,
    string Sha256,
    DateTimeOffset ApprovedAt,
    string? Reason,
    bool Completes,
    string? ApproverOwner = null,
    string? ApproverKeyId = null,
    IReadOnlyList<string>? ApproverKeyIssuers = null);

/// <summary>An approver (or the requester withdrawing it) turned the request down; it is closed.</summary>
public sealed record TransitionRejected(
    Guid ModelId,
    Guid RequestId,
    string RejectedBy,
    string Reason,
    DateTimeOffset RejectedAt);
