using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Mlflow;

public sealed record MlflowTag(string Key, string Value);

public sealed record MlflowAlias(string Alias, string Version);

/// <summary>MLflow's <c>ModelVersion</c>: description, run_id and run_link are always sent (empty when unset).</summary>
public sealed record MlflowModelVersion(
    string Name,
    string Version,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string CurrentStage,
    string Description,
    string Source,
    string RunId,
    string Status,
    IReadOnlyList<MlflowTag>? Tags,
    string RunLink,
    IReadOnlyList<string>? Aliases);

/// <summary>MLflow's <c>RegisteredModel</c>: an unset description and empty lists are left out.</summary>
public sealed record MlflowRegisteredModel(
    string Name,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string? Description,
    IReadOnlyList<MlflowModelVersion>? LatestVersions,
    IReadOnlyList<MlflowTag>? Tags,
    IReadOnlyList<MlflowAlias>? Aliases);

/// <summary>
/// When a model and each of its versions were created and last changed, in epoch milliseconds: the store's timestamps of
/// the events that touched them (the views keep no clock readings; the events are the record of when).
/// </summary>
public sealed class MlflowTimes
{
    private readonly Dictionary<int, (long Created, long Updated)> _versions = new();
    public long Created { get; private set; }
    public long Updated { get; private set; }

    public (long Created, long Updated) Of(int version) => _versions.TryGetValue(version, out var times) ? times : (Created, Updated);

    /// <summary>
    /// One model's times and those of the versions an answer shows, the same values <see cref="Fold"/> and
    /// <see cref="LoadManyAsync"/> give, by walks of the stream's (tenant, stream, version) index that stop at their
    /// first match: the model's first and last event; a version's last update, walking back from the newest event; its
    /// creation (its registration, the first event that touches it), walking from whichever end of the stream it was
    /// registered nearer, judged by its number against the model's latest. So an answer about a version just
    /// registered or just moved reads a few events, where grouping every event of the model grew with its history.
    /// </summary>
    public static async Task<MlflowTimes> LoadAsync(IQuerySession session, ModelView model, IReadOnlyCollection<int> versions, CancellationToken ct)
    {
        var times = new MlflowTimes();
        var events = $"{EventSourcedRegistry.Store.RegistryStore.Schema}.mt_events";
        const string stream = "e.tenant_id = ? and e.stream_id = ?";
        string Version(string registrationWalk) =>
            "select jsonb_strip_nulls(jsonb_build_object('model', ?::uuid, 'version', v.n, 'created', " +
            string.Format(Ms, $"(select e.timestamp from {events} as e where {stream} and e.type = 'model_version_registered' " +
                              $"and (e.data ->> 'version')::int = v.n order by e.version {registrationWalk} limit 1)") + ", 'updated', " +
            string.Format(Ms, $"(select e.timestamp from {events} as e where {stream} and e.type in ({VersionEventTypes}) and v.n in ({VersionsOf}) " +
                              "order by e.version desc limit 1)") +
            ")) from unnest(?::int[]) as v(n)";
        var sql =
            "select jsonb_build_object('model', ?::uuid, 'version', 0, 'created', " +
            string.Format(Ms, $"(select e.timestamp from {events} as e where {stream} order by e.version limit 1)") + ", 'updated', " +
            string.Format(Ms, $"(select e.timestamp from {events} as e where {stream} order by e.version desc limit 1)") + ") " +
            $"union all {Version("")} union all {Version("desc")}";
        var (tenant, id) = (session.TenantId, model.Id);
        var (early, late) = versions.Distinct().Aggregate((Early: new List<int>(), Late: new List<int>()), (sides, v) =>
        {
            (2 * v <= model.LatestVersion ? sides.Early : sides.Late).Add(v);
            return sides;
        });
        object[] parameters =
        [
            id, tenant, id, tenant, id,
            id, tenant, id, tenant, id, early.ToArray(),
            id, tenant, id, tenant, id, late.ToArray(),
        ];
        foreach (var row in await session.QueryAsync<Row>(sql, ct, parameters))
        {
            if (row.Version == 0) (times.Created, times.Updated) = (row.Created, row.Updated);
            // A version with no registration in the stream (none the callers ask about) keeps the model's times.
            else if (row.Created != 0) times._versions[row.Version] = (row.Created, row.Updated);
        }
        return times;
    }

    // A timestamp in epoch milliseconds, as MLflow gives them; the first or last of a group's events by stream version.
    private const string Ms = "floor(extract(epoch from {0}) * 1000)::bigint";
    private const string First = "(array_agg(e.timestamp order by e.version{0}))[1]";

    // The versions an event e changes (besides the model itself): ModelVersionView.KeysOf in SQL, for both reads.
    private const string VersionsOf =
        $"select (e.data ->> 'version')::int where e.type in ({VersionEventTypes}) union all " +
        $"select (e.data ->> 'previousVersion')::int where e.type in ({PreviousVersionEventTypes}) and e.data ->> 'previousVersion' is not null";

    /// <summary>The same times folded from a stream in memory: the definition the SQL of <see cref="LoadManyAsync"/> follows.</summary>

    /// <summary>A model's (<see cref="Version"/> 0) or one version's first and last event times, in epoch ms.</summary>
    public sealed record Row(Guid Model, int Version, long Created, long Updated);

    /// <summary>
    /// The events that change a version's view (<see cref="ModelVersionView.KeysOf"/>) by Marten's type name, and those
    /// that also change the version named in <c>previousVersion</c>.
    /// </summary>
    public const string VersionEventTypes =
        "'model_version_registered', 'model_version_metadata_edited', 'model_version_stage_transitioned', 'model_alias_assigned', " +
        "'model_alias_removed', 'model_version_deployed', 'model_version_undeployed'";
    private const string PreviousVersionEventTypes = "'model_alias_assigned', 'model_version_deployed'";

    /// <summary>
    /// The times of several models (a search page's) in one statement that reads their events' timestamps, not their
    /// bodies: the same values <see cref="LoadAsync"/> folds (first and last event by stream version; a version's from the
    /// events that change its view), at a fraction of the cost of fetching and deserializing every stream.
    /// </summary>
    public static async Task<Dictionary<Guid, MlflowTimes>> LoadManyAsync(IQuerySession session, IReadOnlyCollection<Guid> modelIds, CancellationToken ct)
    {
        var ids = modelIds.Distinct().ToArray();
        var times = ids.ToDictionary(id => id, _ => new MlflowTimes());
        if (ids.Length == 0) return times;
        var sql =
            $"select jsonb_build_object('model', e.stream_id, 'version', k.n, 'created', {string.Format(Ms, string.Format(First, ""))}, 'updated', {string.Format(Ms, string.Format(First, " desc"))}) " +
            $"from {EventSourcedRegistry.Store.RegistryStore.Schema}.mt_events as e cross join lateral (select 0 union all {VersionsOf}) as k(n) " +
            "where e.tenant_id = ? and e.stream_id = any(?) group by e.stream_id, k.n";
        foreach (var row in await session.QueryAsync<Row>(sql, ct, session.TenantId, ids))
        {
            var model = times[row.Model];
            if (row.Version == 0) (model.Created, model.Updated) = (row.Created, row.Updated);
            else model._versions[row.Version] = (row.Created, row.Updated);
        }
        return times;
    }

    public static MlflowTimes Fold(IEnumerable<JasperFx.Events.IEvent> events)
    {
        var times = new MlflowTimes();
        foreach (var e in events)
        {
            var at = e.Timestamp.ToUnixTimeMilliseconds();
            if (times.Created == 0) times.Created = at;
            times.Updated = at;
            foreach (var key in ModelVersionView.KeysOf(e.Data))
            {
                var version = int.Parse(key[(key.IndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                times._versions[version] = times._versions.TryGetValue(version, out var known) ? (known.Created, at) : (at, at);
            }
        }
        return times;
    }
}

/// <summary>The registry's views in MLflow's wire shapes.</summary>
public static class MlflowShapes
{
    /// <summary>MLflow's only final status: the registry registers a version in one commit, never pending.</summary>
    public const string Ready = "READY";

    public static MlflowModelVersion Version(string modelName, ModelVersionView view, MlflowTimes times, bool withAliases)
    {
        var (created, updated) = times.Of(view.VersionNumber);
        return new MlflowModelVersion(modelName, view.VersionNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), created, updated,
            view.Stage, view.Description ?? "", SourceOf(view.Artifact), view.Lineage?.RunId ?? "", Ready, Tags(view.Tags),
            view.Lineage?.RunLink ?? "", withAliases && view.Aliases.Count > 0 ? view.Aliases : null);
    }

    /// <summary>
    /// The URI a version's files are fetched from: the source it was registered with; for a version whose bytes were
    /// uploaded to the registry's own store, that artifact's download route (the MLflow artifact proxy is not built yet).
    /// </summary>
    public static string SourceOf(ArtifactReference artifact) => artifact.Uri ?? $"/api/v1/artifacts/{artifact.Sha256}";

    public static async Task<MlflowRegisteredModel> Model(IQuerySession session, ModelView model, CancellationToken ct, MlflowTimes? times = null,
        IReadOnlyList<ModelVersionView>? latestViews = null)
    {
        var latest = model.VersionsByStage.Values.Where(versions => versions.Count > 0).Select(versions => versions[^1]).Order().ToList();
        times ??= await MlflowTimes.LoadAsync(session, model, latest, ct);
        var views = latestViews ?? (latest.Count == 0
            ? []
            : await session.LoadManyAsync<ModelVersionView>(ct, latest.Select(v => ModelVersionView.Key(model.Id, v)).ToArray()));
        var latestVersions = views.OrderBy(v => v.VersionNumber).Select(v => Version(model.Name, v, times, withAliases: false)).ToList();
        var aliases = model.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => new MlflowAlias(a.Key, a.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        return new MlflowRegisteredModel(model.Name, times.Created, times.Updated, string.IsNullOrEmpty(model.Description) ? null : model.Description,
            latestVersions.Count > 0 ? latestVersions : null, Tags(model.Tags), aliases.Count > 0 ? aliases : null);
    }

    /// <summary>
    /// A page of models in MLflow's shape with two reads for the whole page (the latest version of each stage, and the
    /// models' events for their times), not two per model.
    /// </summary>
    public static async Task<List<MlflowRegisteredModel>> Models(IQuerySession session, IReadOnlyList<ModelView> models,
        IReadOnlyDictionary<Guid, MlflowTimes> times, CancellationToken ct)
    {
        var keys = models.SelectMany(m => m.VersionsByStage.Values.Where(v => v.Count > 0).Select(v => ModelVersionView.Key(m.Id, v[^1])))
            .Distinct().ToArray();
        var versions = keys.Length == 0 ? [] : await session.LoadManyAsync<ModelVersionView>(ct, keys);
        var byModel = versions.ToLookup(v => v.ModelId);
        var shown = new List<MlflowRegisteredModel>(models.Count);
        foreach (var model in models)
            shown.Add(await Model(session, model, ct, times[model.Id], byModel[model.Id].ToList()));
        return shown;
    }

    private static IReadOnlyList<MlflowTag>? Tags(IReadOnlyDictionary<string, string> tags) =>
        tags.Count == 0 ? null : tags.Select(t => new MlflowTag(t.Key, t.Value)).ToList();
}
