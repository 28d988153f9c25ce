using EventSourcedRegistry.Access;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Approvals;

public static class TransitionKinds
{
    public const string Stage = "stage";
    public const string Alias = "alias";
}

public static class RequestStates
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Superseded = "superseded";

    public static readonly IReadOnlyList<string> All = [Pending, Approved, Rejected, Superseded];
}

/// <summary>One approval; <see cref="Owner"/>, <see cref="KeyId"/> and <see cref="Issuers"/> are null when it was given before owners existed.</summary>
public sealed record Approval(string Approver, string Sha256, DateTimeOffset ApprovedAt, string? Reason,
    string? Owner = null, string? KeyId = null, IReadOnlyList<string>? Issuers = null)
{
    /// <summary>The approver as four eyes judges them.</summary>
    public Principal By() => Owner is { } owner ? new Principal(Approver, owner, KeyId, Issuers ?? []) : Principal.FromActor(Approver);
}

/// <summary>One transition request as its events leave it.</summary>
public sealed class TransitionRequest
{
    public Guid Id { get; set; }
    public string Kind { get; set; } = "";
    /// <summary>The model version number the request moves (not "Version": Marten's stream-version member name).</summary>
    public int VersionNumber { get; set; }
    public string Target { get; set; } = "";
    public bool ArchiveExisting { get; set; }
    public string Sha256 { get; set; } = "";
    public string RequestedBy { get; set; } = "";
    /// <summary>The requester's owner, key and its issuers (see <see cref="Principal"/>); null for a request from before owners existed.</summary>
    public string? RequesterOwner { get; set; }
    public string? RequesterKeyId { get; set; }
    public List<string>? RequesterKeyIssuers { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public string State { get; set; } = RequestStates.Pending;
    public List<Approval> Approvals { get; set; } = [];
    /// <summary>Who closed it (the last approver, the rejecter); null for a superseded request.</summary>
    public string? ClosedBy { get; set; }
    /// <summary>Why it is closed: the rejection's reason, or what superseded it.</summary>
    public string? ClosedReason { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public Guid? SupersededBy { get; set; }

    public bool IsPending => State == RequestStates.Pending;

    /// <summary>The requester as four eyes judges them; a request from before owners is known by its actor alone.</summary>
    public Principal Requester() => RequesterOwner is { } owner
        ? new Principal(RequestedBy, owner, RequesterKeyId, RequesterKeyIssuers ?? [])
        : Principal.FromActor(RequestedBy);

    /// <summary>A copy whose approvals list is its own (the approvals themselves are immutable records).</summary>
    public TransitionRequest Copy()
    {
        var copy = (TransitionRequest)MemberwiseClone();
        copy.Approvals = [.. Approvals];
        return copy;
    }
}

/// <summary>
/// Folds events into a model's transition requests. Pure: the same function keeps the pending requests in
/// <see cref="ModelView"/> (what commands decide against) and every request in <see cref="TransitionRequestsView"/>.
/// A pending request is superseded, without an event of its own, when what it asks for is overtaken:
/// a newer request of the same kind and target; for a stage request, its version moving to any stage by other
/// means (an unprotected move, a rollback); for an alias request, the alias being moved or removed by other means.
/// The completing approval precedes the transition's events, so a request is approved before they arrive.
/// </summary>
public static class TransitionRequests
{
    public static void Apply(List<TransitionRequest> requests, object @event)
    {
        switch (@event)
        {
            case TransitionRequested e:
                foreach (var pending in Pending(requests, r => r.Kind == e.Kind && string.Equals(r.Target, e.Target, StringComparison.OrdinalIgnoreCase)))
                    Supersede(pending, $"Superseded by request {e.RequestId} for {Describe(e.Kind, e.Target)}.", e.RequestId, e.RequestedAt);
                requests.Add(new TransitionRequest
                {
                    Id = e.RequestId, Kind = e.Kind, VersionNumber = e.Version, Target = e.Target, ArchiveExisting = e.ArchiveExisting,
                    Sha256 = e.Sha256, RequestedBy = e.RequestedBy, Reason = e.Reason, RequestedAt = e.RequestedAt,
                    RequesterOwner = e.RequesterOwner, RequesterKeyId = e.RequesterKeyId,
                    RequesterKeyIssuers = e.RequesterKeyIssuers is { } issuers ? [.. issuers] : null,
                });
                break;
            case TransitionApproved e when Find(requests, e.RequestId) is { IsPending: true } request:
                request.Approvals.Add(new Approval(e.Approver, e.Sha256, e.ApprovedAt, e.Reason, e.ApproverOwner, e.ApproverKeyId, e.ApproverKeyIssuers));
                if (e.Completes)
                {
                    request.State = RequestStates.Approved;
                    request.ClosedBy = e.Approver;
                    request.ClosedAt = e.ApprovedAt;
                }
                break;
            case TransitionRejected e when Find(requests, e.RequestId) is { IsPending: true } request:
                request.State = RequestStates.Rejected;
                request.ClosedBy = e.RejectedBy;
                request.ClosedReason = e.Reason;
                request.ClosedAt = e.RejectedAt;
                break;
            case ModelVersionStageTransitioned e:
                foreach (var pending in Pending(requests, r => r.Kind == TransitionKinds.Stage && r.VersionNumber == e.Version))
                    Supersede(pending, $"Version {e.Version} moved from {e.FromStage} to {e.ToStage} outside this request.", null, null);
                break;
            case ModelAliasAssigned e:
                foreach (var pending in Pending(requests, r => r.Kind == TransitionKinds.Alias && r.Target == e.Alias))
                    Supersede(pending, $"Alias {e.Alias} was moved to version {e.Version} outside this request.", null, null);
                break;
            case ModelAliasRemoved e:
                foreach (var pending in Pending(requests, r => r.Kind == TransitionKinds.Alias && r.Target == e.Alias))
                    Supersede(pending, $"Alias {e.Alias} was removed outside this request.", null, null);
                break;
        }
    }

    public static string Describe(string kind, string target) => kind == TransitionKinds.Alias ? $"alias {target}" : $"stage {target}";

    private static TransitionRequest? Find(List<TransitionRequest> requests, Guid id) => requests.Find(r => r.Id == id);

    private static List<TransitionRequest> Pending(List<TransitionRequest> requests, Func<TransitionRequest, bool> match) =>
        requests.Where(r => r.IsPending && match(r)).ToList();

    private static void Supersede(TransitionRequest request, string why, Guid? by, DateTimeOffset? at)
    {
        request.State = RequestStates.Superseded;
        request.ClosedReason = why;
        request.SupersededBy = by;
        request.ClosedAt = at;
    }
}
