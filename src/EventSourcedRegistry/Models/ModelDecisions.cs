using System.Text.Json;
using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Models;

/// <summary>
/// The rules of a registered model: pure functions of (current state, command) that return the events to
/// append or the reason to refuse. Input shape (lengths, characters, digests) is checked before these run;
/// these check only what depends on the model's state.
/// </summary>
public static class ModelDecisions
{
    public static Decision Register(Guid modelId, string name, string? description, IReadOnlyDictionary<string, string>? tags) =>
        Decision.Accept(new ModelRegistered(modelId, name, NullIfEmpty(description), Copy(tags)));

    public static Decision Rename(ModelView model, string newName)
    {
        if (model.Archived) return ArchivedRefusal(model);
        if (string.Equals(model.Name, newName, StringComparison.Ordinal)) return Decision.Unchanged;
        return Decision.Accept(new ModelRenamed(model.Id, model.Name, newName));
    }

    public static Decision EditMetadata(ModelView model, string? description,
        IReadOnlyDictionary<string, string>? setTags, IReadOnlyList<string>? removeTags)
    {
        if (model.Archived) return ArchivedRefusal(model);
        var overlap = (removeTags ?? []).Where(k => setTags?.ContainsKey(k) == true).ToList();
        if (overlap.Count > 0) return Decision.Invalid($"Tag '{overlap[0]}' is both set and removed.");

        var changedDescription = description is not null && description != (model.Description ?? "") ? description : null;
        var set = (setTags ?? new Dictionary<string, string>())
            .Where(t => !model.Tags.TryGetValue(t.Key, out var old) || old != t.Value)
            .ToDictionary(t => t.Key, t => t.Value);
        var removed = (removeTags ?? []).Where(model.Tags.ContainsKey).Distinct().ToList();
        if (changedDescription is null && set.Count == 0 && removed.Count == 0) return Decision.Unchanged;
        return Decision.Accept(new ModelMetadataEdited(model.Id, changedDescription, set, removed));
    }

    public static Decision Archive(ModelView model) =>
        model.Archived
            ? Decision.Conflict($"Model '{model.Name}' is already archived.")
            : Decision.Accept(new ModelArchived(model.Id));

    public static Decision Restore(ModelView model) =>
        model.Archived
            ? Decision.Accept(new ModelRestored(model.Id))
            : Decision.Conflict($"Model '{model.Name}' is not archived; only an archived model can be restored.");

    /// <summary>The next version is always latest + 1, decided against the stream's state, so numbers never skip.</summary>
    public static Decision RegisterVersion(ModelView model, Lifecycle.Lifecycle lifecycle, ArtifactReference artifact,
        Lineage? lineage, IReadOnlyDictionary<string, string>? parameters, IReadOnlyDictionary<string, double>? metrics,
        IReadOnlyDictionary<string, string>? tags, string? description, JsonElement? metadata)
    {
        if (model.Archived) return ArchivedRefusal(model);
        return Decision.Accept(new ModelVersionRegistered(model.Id, model.LatestVersion + 1, lifecycle.InitialStage,
            artifact with { Sha256 = artifact.Sha256.ToLowerInvariant() }, lineage, Copy(parameters),
            metrics is null ? new Dictionary<string, double>() : new Dictionary<string, double>(metrics),
            Copy(tags), NullIfEmpty(description), metadata));
    }

    public static Decision EditVersion(ModelView model, int version, string? description,
        IReadOnlyDictionary<string, string>? setTags, IReadOnlyList<string>? removeTags, JsonElement? metadata,
        IReadOnlyDictionary<string, string> currentTags, string? currentDescription = null, JsonElement? currentMetadata = null)
    {
        if (model.Archived) return ArchivedRefusal(model);
        if (!model.HasVersion(version)) return VersionNotFound(model, version);
        var overlap = (removeTags ?? []).Where(k => setTags?.ContainsKey(k) == true).ToList();
        if (overlap.Count > 0) return Decision.Invalid($"Tag '{overlap[0]}' is both set and removed.");

        var set = (setTags ?? new Dictionary<string, string>())
            .Where(t => !currentTags.TryGetValue(t.Key, out var old) || old != t.Value)
            .ToDictionary(t => t.Key, t => t.Value);
        var removed = (removeTags ?? []).Where(currentTags.ContainsKey).Distinct().ToList();
        // Only real changes are recorded, so a resent PATCH appends nothing.
        var changedDescription = description is not null && description != (currentDescription ?? "") ? description : null;
        var changedMetadata = metadata is { } m && !(currentMetadata is { } c && JsonElement.DeepEquals(m, c)) ? metadata : null;
        if (changedDescription is null && set.Count == 0 && removed.Count == 0 && changedMetadata is null) return Decision.Unchanged;
        return Decision.Accept(new ModelVersionMetadataEdited(model.Id, version, changedDescription, set, removed, changedMetadata));
    }

    /// <summary>
    /// Moves a version along the lifecycle graph. With <paramref name="archiveExisting"/> every other version in the
    /// target stage goes to the archive stage in the same commit.
    /// <paramref name="candidate"/> is the version's view, which the target stage's gates (if any) are checked against;
    /// a stage with gates admits no version whose view is not given.
    /// </summary>
    public static Decision TransitionStage(ModelView model, Lifecycle.Lifecycle lifecycle, int version, string stage,
        string? reason, bool archiveExisting, ModelVersionView? candidate = null)
    {
        if (model.Archived) return ArchivedRefusal(model);
        var target = lifecycle.Resolve(stage);
        if (target is null)
            return Decision.Invalid($"'{stage}' is not a stage. The stages are: {string.Join(", ", lifecycle.Stages)}.");
        if (!model.HasVersion(version)) return VersionNotFound(model, version);

        var current = model.StageOf(version) ?? lifecycle.InitialStage;
        if (current != target && !lifecycle.Allows(current, target))
        {
            var allowed = lifecycle.AllowedFrom(current);
            return Decision.Conflict(
                $"The lifecycle does not allow moving version {version} from {current} to {target}; from {current} it may go to: " +
                (allowed.Count == 0 ? "nowhere" : string.Join(", ", allowed)) + ".");
        }

        if (current != target && GateRefusal(lifecycle, target, version, candidate) is { } gated) return gated;

        var displaced = archiveExisting && target != lifecycle.ArchiveStage && model.VersionsByStage.TryGetValue(target, out var inTarget)
            ? inTarget.Where(v => v != version).ToList()
            : [];
        if (displaced.Count > 0 && !lifecycle.Allows(target, lifecycle.ArchiveStage))
            return Decision.Conflict(
                $"archiveExisting would move version(s) {string.Join(", ", displaced)} from {target} to {lifecycle.ArchiveStage}, " +
                "which the lifecycle does not allow.");

        var events = new List<object>();
        // Already there: nothing to record for this version, but archiveExisting still clears the others out.
        if (current != target) events.Add(new ModelVersionStageTransitioned(model.Id, version, current, target, reason));
        foreach (var other in displaced)
        {
            events.Add(new ModelVersionStageTransitioned(model.Id, other, target, lifecycle.ArchiveStage,
                $"Archived because version {version} entered {target}."));
        }
        if (events.Count == 0) return Decision.Unchanged;
        return Decision.Accept(events);
    }

    /// <summary>
    /// The 409 listing every gate of <paramref name="target"/> the version does not meet, or null when it may enter.
    /// Only the version that is moved is gated: versions displaced by archiveExisting retreat, they do not advance.
    /// </summary>
    public static Decision? GateRefusal(Lifecycle.Lifecycle lifecycle, string target, int version, ModelVersionView? candidate)
    {
        if (lifecycle.GatesFor(target) is not { IsEmpty: false } gate) return null;
        IReadOnlyList<Lifecycle.UnmetGate> unmet = candidate is null
            ? [new Lifecycle.UnmetGate("version", target, $"Version {version}'s view is not available to check the gates of {target}.")]
            : Lifecycle.StageGates.Check(gate, candidate);
        if (unmet.Count == 0) return null;
        return Decision.Reject(RejectionKind.Conflict, "Stage gates not met",
            $"Version {version} cannot enter {target}: " + string.Join(" ", unmet.Select(u => u.Detail)),
            new Dictionary<string, object?> { ["unmetGates"] = unmet });
    }

    public static Decision AssignAlias(ModelView model, string alias, int version)
    {
        if (model.Archived) return ArchivedRefusal(model);
        var name = InputRules.NormalizeAlias(alias);
        if (InputRules.IsReservedAlias(name))
            return Decision.Invalid($"'{alias}' is reserved: 'latest' and 'v<number>' always resolve to the newest and the numbered version.");
        if (!model.HasVersion(version)) return VersionNotFound(model, version);
        if (model.Aliases.TryGetValue(name, out var previous))
        {
            if (previous == version) return Decision.Unchanged;
            return Decision.Accept(new ModelAliasAssigned(model.Id, name, version, previous));
        }
        return Decision.Accept(new ModelAliasAssigned(model.Id, name, version, null));
    }

    public static Decision RemoveAlias(ModelView model, string alias)
    {
        if (model.Archived) return ArchivedRefusal(model);
        var name = InputRules.NormalizeAlias(alias);
        if (InputRules.IsReservedAlias(name))
            return Decision.Invalid($"'{alias}' is reserved and cannot be removed.");
        return model.Aliases.TryGetValue(name, out var version)
            ? Decision.Accept(new ModelAliasRemoved(model.Id, name, version))
            : Decision.NotFound($"Model '{model.Name}' has no alias '{name}'.");
    }

    /// <summary>
    /// Records what a CD system reports. Deploying into a slot that runs another version replaces it (the event
    /// names the one replaced); re-reporting what is already recorded changes nothing; undeploying a version that
    /// the record does not show in that slot is refused, since the report contradicts the history.
    /// </summary>
    public static Decision ReportDeployment(ModelView model, int version, string environment, string? target, bool deployed)
    {
        if (model.Archived) return ArchivedRefusal(model);
        if (!model.HasVersion(version)) return VersionNotFound(model, version);
        var slot = ModelView.SlotOf(environment, target);
        model.Deployments.TryGetValue(slot, out var running);
        if (deployed)
        {
            if (running == version) return Decision.Unchanged;
            return Decision.Accept(new ModelVersionDeployed(model.Id, version, environment, target, running == 0 ? null : running));
        }
        if (running != version)
            return Decision.Conflict(running == 0
                ? $"Nothing of model '{model.Name}' is recorded as deployed in {slot}; version {version} cannot be undeployed from it."
                : $"Version {running} of model '{model.Name}' is recorded in {slot}, not version {version}.");
        return Decision.Accept(new ModelVersionUndeployed(model.Id, version, environment, target));
    }

    /// <summary>
    /// Deletes the model: a tombstone (<see cref="ModelDeleted"/>) that frees its name and ends its stream, its history
    /// kept. An archived model may be deleted. Refused while anything of it is protected or running
    /// (<see cref="HeldAgainstDeletion"/>): an auditor expects a Production model to leave Production through a recorded
    /// (and, where protected, approved) transition first, never to vanish with one call.
    /// </summary>
    public static Decision Delete(ModelView model, Approvals.ApprovalPolicy approvals, string? reason)
    {
        if (HeldAgainstDeletion(model, approvals, null) is { } held)
            return Decision.Conflict($"Model '{model.Name}' cannot be deleted while {held}. Nothing was changed.");
        return Decision.Accept(new ModelDeleted(model.Id, model.Name, model.LatestVersion, NullIfEmpty(reason)));
    }

    /// <summary>
    /// Deletes one version: its view, stage and aliases go, its number is never given out again. Refused, as
    /// <see cref="Delete"/>, while the version is in a protected stage, holds a protected alias or is recorded as deployed.
    /// </summary>
    public static Decision DeleteVersion(ModelView model, Approvals.ApprovalPolicy approvals, int version, string? reason)
    {
        if (model.Archived) return ArchivedRefusal(model);
        if (!model.HasVersion(version)) return VersionNotFound(model, version);
        if (HeldAgainstDeletion(model, approvals, version) is { } held)
            return Decision.Conflict($"Version {version} of model '{model.Name}' cannot be deleted while {held}. Nothing was changed.");
        return Decision.Accept(new ModelVersionDeleted(model.Id, version, model.StageOf(version) ?? "", NullIfEmpty(reason)));
    }

    /// <summary>
    /// Why the model (or only <paramref name="version"/>) may not be deleted now, with what to do first; null when it may:
    /// a version in a protected stage, a protected alias on a version, a version recorded as deployed.
    /// </summary>
    public static string? HeldAgainstDeletion(ModelView model, Approvals.ApprovalPolicy approvals, int? version)
    {
        bool Concerns(int v) => version is null || v == version;
        foreach (var stage in approvals.ProtectedStages)
            if (model.VersionsByStage.TryGetValue(stage, out var inStage) && inStage.FirstOrDefault(Concerns) is > 0 and var v)
                return $"version {v} is in {stage}, a protected stage (move it out first, e.g. to Archived, by a recorded transition)";
        foreach (var (alias, v) in model.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal))
            if (Concerns(v) && approvals.ProtectedAliases.Contains(alias))
                return $"the protected alias '{alias}' is on version {v} (remove or move it first)";
        foreach (var (slot, v) in model.Deployments.OrderBy(d => d.Key, StringComparer.Ordinal))
            if (Concerns(v))
                return $"version {v} is recorded as deployed in {slot} (report it undeployed first)";
        return null;
    }

    /// <summary>What an alias points at now: a set alias, or the reserved <c>latest</c> and <c>v&lt;n&gt;</c>.</summary>
    public static int? ResolveAlias(ModelView model, string alias)
    {
        var name = InputRules.NormalizeAlias(alias);
        if (name == "latest") return model.LatestVersion > 0 ? model.LatestVersion : null;
        if (InputRules.ReservedAliasVersion(name) is { } numbered) return model.HasVersion(numbered) ? numbered : null;
        return model.Aliases.TryGetValue(name, out var version) ? version : null;
    }

    public static Decision VersionNotFound(ModelView model, int version) =>
        Decision.NotFound(model.LatestVersion == 0
            ? $"Model '{model.Name}' has no versions yet; version {version} does not exist."
            : $"Model '{model.Name}' has no version {version}; its versions are 1 to {model.LatestVersion}.");

    private static Decision ArchivedRefusal(ModelView model) =>
        Decision.Conflict($"Model '{model.Name}' is archived and accepts no commands but restore.");

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string>? source) =>
        source is null ? new Dictionary<string, string>() : new Dictionary<string, string>(source);
}
