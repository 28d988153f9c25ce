using System.Text.Json;

namespace EventSourcedRegistry.Models;

/// <summary>One model version as it stands now: artifact, lineage, params, metrics, stage and aliases. Kept inline.</summary>
public sealed class ModelVersionView
{
    /// <summary><see cref="Key"/> of model id and version number.</summary>
    public string Id { get; set; } = "";
    public Guid ModelId { get; set; }
    /// <summary>The model version number. Not named "Version": Marten would write the stream version into that member.</summary>
    public int VersionNumber { get; set; }
    public string Stage { get; set; } = "";
    public ArtifactReference Artifact { get; set; } = new(null, "", null);
    public Lineage? Lineage { get; set; }
    public Dictionary<string, string> Params { get; set; } = new();
    public Dictionary<string, double> Metrics { get; set; } = new();
    public Dictionary<string, string> Tags { get; set; } = new();
    public string? Description { get; set; }
    public JsonElement? Metadata { get; set; }
    public List<string> Aliases { get; set; } = [];

    /// <summary>The deployment slots ("environment" or "environment/target") this version runs in.</summary>
    public List<string> Deployments { get; set; } = [];

    public static string Key(Guid modelId, int version) => $"{modelId:N}:{version}";

    /// <summary>The keys of the version documents an event changes.</summary>
    public static IEnumerable<string> KeysOf(object @event) => @event switch
    {
        ModelVersionRegistered e => [Key(e.ModelId, e.Version)],
        ModelVersionMetadataEdited e => [Key(e.ModelId, e.Version)],
        ModelVersionStageTransitioned e => [Key(e.ModelId, e.Version)],
        ModelAliasAssigned { PreviousVersion: { } previous } e when previous != e.Version =>
            [Key(e.ModelId, e.Version), Key(e.ModelId, previous)],
        ModelAliasAssigned e => [Key(e.ModelId, e.Version)],
        ModelAliasRemoved e => [Key(e.ModelId, e.Version)],
        ModelVersionDeployed { PreviousVersion: { } previous } e when previous != e.Version =>
            [Key(e.ModelId, e.Version), Key(e.ModelId, previous)],
        ModelVersionDeployed e => [Key(e.ModelId, e.Version)],
        ModelVersionUndeployed e => [Key(e.ModelId, e.Version)],
        ModelVersionDeleted e => [Key(e.ModelId, e.Version)],
        // Every number the model gave out: a version deleted before has no document, and stays without one.
        ModelDeleted e => Enumerable.Range(1, e.LatestVersion).Select(v => Key(e.ModelId, v)),
        _ => [],
    };

    /// <summary>Folds one event into the version document with the given key; null when there is none (not yet, or deleted). Pure.</summary>
    public static ModelVersionView? Fold(ModelVersionView? current, string key, object @event)
    {
        switch (@event)
        {
            case ModelVersionRegistered e:
                return new ModelVersionView
                {
                    Id = key,
                    ModelId = e.ModelId,
                    VersionNumber = e.Version,
                    Stage = e.Stage,
                    Artifact = e.Artifact,
                    Lineage = e.Lineage,
                    Params = new Dictionary<string, string>(e.Params),
                    Metrics = new Dictionary<string, double>(e.Metrics),
                    Tags = new Dictionary<string, string>(e.Tags),
                    Description = e.Description,
                    Metadata = e.Metadata,
                };
            case ModelVersionMetadataEdited e when current is not null:
                if (e.Description is not null) current.Description = e.Description.Length == 0 ? null : e.Description;
                foreach (var tag in e.RemovedTags) current.Tags.Remove(tag);
                foreach (var (tag, value) in e.SetTags) current.Tags[tag] = value;
                if (e.Metadata is not null) current.Metadata = e.Metadata;
                return current;
            case ModelVersionStageTransitioned e when current is not null:
                current.Stage = e.ToStage;
                return current;
            case ModelAliasAssigned e when current is not null:
                if (current.VersionNumber == e.Version)
                {
                    if (!current.Aliases.Contains(e.Alias)) current.Aliases.Add(e.Alias);
                    current.Aliases.Sort(StringComparer.Ordinal);
                }
                else
                {
                    current.Aliases.Remove(e.Alias);
                }
                return current;
            case ModelAliasRemoved e when current is not null:
                current.Aliases.Remove(e.Alias);
                return current;
            case ModelVersionDeployed e when current is not null:
                var slot = ModelView.SlotOf(e.Environment, e.Target);
                if (current.VersionNumber == e.Version)
                {
                    if (!current.Deployments.Contains(slot)) current.Deployments.Add(slot);
                    current.Deployments.Sort(StringComparer.Ordinal);
                }
                else
                {
                    current.Deployments.Remove(slot);
                }
                return current;
            case ModelVersionUndeployed e when current is not null:
                current.Deployments.Remove(ModelView.SlotOf(e.Environment, e.Target));
                return current;
            case ModelVersionDeleted or ModelDeleted:
                return null;
            default:
                return current;
        }
    }
}
