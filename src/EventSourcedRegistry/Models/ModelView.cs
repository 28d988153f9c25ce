namespace EventSourcedRegistry.Models;

/// <summary>
/// The current-version view of one registered model, kept inline (written in the same transaction as its
/// events) and also the state every command of the model is decided against.
/// </summary>
public sealed class ModelView
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string NormalizedName { get; set; } = "";
    public string? Description { get; set; }
    public Dictionary<string, string> Tags { get; set; } = new();
    public bool Archived { get; set; }

    /// <summary>
    /// Set by <see cref="ModelDeleted"/>: a fold past the deletion is no model (the inline view is removed, reads as of
    /// then answer 404). Left out of the JSON while false, so views written before deletion existed compare equal.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Deleted { get; set; }

    /// <summary>Versions deleted (<see cref="ModelVersionDeleted"/>), ascending; null while none is. Their numbers are never reused.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public List<int>? DeletedVersions { get; set; }

    /// <summary>The model's metadata standard (a JSON Schema for its versions' metadata); null when it has none.</summary>
    public System.Text.Json.JsonElement? MetadataSchema { get; set; }

    /// <summary>The highest version number registered; 0 before the first version.</summary>
    public int LatestVersion { get; set; }

    /// <summary>Stage → its versions, ascending (as runs: <see cref="VersionSet"/>); stages without versions are left out.</summary>
    public Dictionary<string, VersionSet> VersionsByStage { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Alias → version.</summary>
    public Dictionary<string, int> Aliases { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Deployment slot ("environment" or "environment/target") → the version running there.</summary>
    public Dictionary<string, int> Deployments { get; set; } = new(StringComparer.Ordinal);

    public static string SlotOf(string environment, string? target) => target is null ? environment : $"{environment}/{target}";

    /// <summary>Transition requests waiting for approval (four-eyes); closed ones are in the transition requests view.</summary>
    public List<Approvals.TransitionRequest> PendingRequests { get; set; } = [];

    /// <summary>Stream version: the number of events in this model's stream. Served as the ETag.</summary>
    public long Revision { get; set; }

    public bool HasVersion(int version) =>
        version >= 1 && version <= LatestVersion && (DeletedVersions is null || DeletedVersions.BinarySearch(version) < 0);

    public string? StageOf(int version)
    {
        foreach (var (stage, versions) in VersionsByStage)
            if (versions.Contains(version)) return stage;
        return null;
    }

    /// <summary>
    /// A deep copy: <see cref="Fold"/> changes the view it is given, so a command folds its events into a copy and
    /// keeps the state it decided against.
    /// </summary>
    public ModelView Copy()
    {
        var versionsByStage = new Dictionary<string, VersionSet>(VersionsByStage.Count, VersionsByStage.Comparer);
        foreach (var (stage, versions) in VersionsByStage) versionsByStage[stage] = versions.Copy();
        return new ModelView
        {
            Id = Id,
            Name = Name,
            NormalizedName = NormalizedName,
            Description = Description,
            Tags = new Dictionary<string, string>(Tags, Tags.Comparer),
            Archived = Archived,
            Deleted = Deleted,
            DeletedVersions = DeletedVersions is null ? null : [.. DeletedVersions],
            LatestVersion = LatestVersion,
            VersionsByStage = versionsByStage,
            Aliases = new Dictionary<string, int>(Aliases, Aliases.Comparer),
            Deployments = new Dictionary<string, int>(Deployments, Deployments.Comparer),
            MetadataSchema = MetadataSchema,
            PendingRequests = PendingRequests.ConvertAll(r => r.Copy()),
            Revision = Revision,
        };
    }

    /// <summary>
    /// Folds one event into the state. Pure: reads no clock, no store. The one statement of what events do to a model's
    /// stages, aliases and deployments: the registry-state rows are this view's (<see cref="History.RegistryState"/>).
    /// </summary>
    public static ModelView Fold(ModelView? current, object @event)
    {
        var view = current ?? new ModelView();
        switch (@event)
        {
            case ModelRegistered e:
                view.Id = e.ModelId;
                view.Name = e.Name;
                view.NormalizedName = Validation.InputRules.NormalizeName(e.Name);
                view.Description = e.Description;
                view.Tags = new Dictionary<string, string>(e.Tags);
                break;
            case ModelRenamed e:
                view.Name = e.NewName;
                view.NormalizedName = Validation.InputRules.NormalizeName(e.NewName);
                break;
            case ModelMetadataEdited e:
                if (e.Description is not null) view.Description = e.Description.Length == 0 ? null : e.Description;
                foreach (var key in e.RemovedTags) view.Tags.Remove(key);
                foreach (var (key, value) in e.SetTags) view.Tags[key] = value;
                break;
            case ModelMetadataSchemaSet e:
                view.MetadataSchema = e.Schema;
                break;
            case ModelMetadataSchemaRemoved:
                view.MetadataSchema = null;
                break;
            case ModelArchived:
                view.Archived = true;
                break;
            case ModelRestored:
                view.Archived = false;
                break;
            case ModelVersionRegistered e:
                view.LatestVersion = Math.Max(view.LatestVersion, e.Version);
                view.AddToStage(e.Stage, e.Version);
                break;
            case ModelVersionStageTransitioned e:
                view.RemoveFromStage(e.FromStage, e.Version);
                view.AddToStage(e.ToStage, e.Version);
                break;
            case ModelAliasAssigned e:
                view.Aliases[e.Alias] = e.Version;
                break;
            case ModelAliasRemoved e:
                view.Aliases.Remove(e.Alias);
                break;
            case ModelVersionDeployed e:
                view.Deployments[SlotOf(e.Environment, e.Target)] = e.Version;
                break;
            case ModelVersionUndeployed e:
                // Only the version undeployed leaves the slot, as only its deployment interval closes (the decider refuses any other).
                if (view.Deployments.TryGetValue(SlotOf(e.Environment, e.Target), out var running) && running == e.Version)
                    view.Deployments.Remove(SlotOf(e.Environment, e.Target));
                break;
            case ModelVersionDeleted e:
                view.RemoveFromStage(e.Stage, e.Version);
                foreach (var alias in view.Aliases.Where(a => a.Value == e.Version).Select(a => a.Key).ToList()) view.Aliases.Remove(alias);
                foreach (var slot in view.Deployments.Where(d => d.Value == e.Version).Select(d => d.Key).ToList()) view.Deployments.Remove(slot);
                view.DeletedVersions ??= [];
                var at = view.DeletedVersions.BinarySearch(e.Version);
                if (at < 0) view.DeletedVersions.Insert(~at, e.Version);
                break;
            case ModelDeleted:
                view.Deleted = true;
                break;
        }
        if (view.PendingRequests.Count > 0 || @event is Approvals.TransitionRequested)
        {
            Approvals.TransitionRequests.Apply(view.PendingRequests, @event);
            view.PendingRequests.RemoveAll(r => !r.IsPending);
        }
        return view;
    }

    private void AddToStage(string stage, int version)
    {
        if (!VersionsByStage.TryGetValue(stage, out var versions)) VersionsByStage[stage] = versions = [];
        versions.Add(version);
    }

    private void RemoveFromStage(string stage, int version)
    {
        if (!VersionsByStage.TryGetValue(stage, out var versions)) return;
        versions.Remove(version);
        if (versions.Count == 0) VersionsByStage.Remove(stage);
    }
}
