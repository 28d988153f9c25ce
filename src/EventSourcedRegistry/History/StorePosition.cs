using EventSourcedRegistry.Models;
using Marten;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.History;

/// <summary>
/// Where history is settled and how to read a model as it stood at a sequence. The store's high-water mark is
/// the sequence below which no transaction can still add an event (Marten's async daemon keeps it, skipping
/// gaps left by rolled-back transactions once they are stale); time travel never reads past it, so the answer
/// for a sequence can never change later.
/// </summary>
public static class StorePosition
{
    /// <summary>The workspace's high-water mark: its events are numbered in a sequence of its own.</summary>
    public static async Task<long> HighWaterMark(NpgsqlDataSource data, string schema, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            $"select coalesce((select last_seq_id from {schema}.mt_event_progression where name = $1), 0)");
        command.Parameters.Add(new NpgsqlParameter { Value = Settlement.HighWaterMarkName(workspace) });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The expression for <see cref="LastEvent"/>, the workspace's tenant id in <paramref name="tenantParameter"/>.</summary>
    public static string LastEventSql(string schema, string tenantParameter) =>
        $"coalesce((select max(seq_id) from {schema}.mt_events where tenant_id = {tenantParameter}), 0)";

    /// <summary>The sequence of the workspace's last stored event, 0 for none (its partition's index, read backwards: one row).</summary>
    public static async Task<long> LastEvent(NpgsqlDataSource data, string schema, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = data.CreateCommand($"select {LastEventSql(schema, "$1")}");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The model's id by a name it had at the sequence, else by its current name; in the session's workspace.</summary>
    public static async Task<Guid?> ModelIdByName(NpgsqlDataSource data, IQuerySession session, string schema, string name,
        long sequence, CancellationToken ct)
    {
        // Only a model of the session's workspace: names and sequences repeat across workspaces.
        await using var command = data.CreateCommand(
            $"select model_id from {DeploymentHistory.QualifiedTable(schema)} where tenant_id = $3 and kind = '{DeploymentHistory.Kinds.Name}' " +
            "and lower(subject) = lower($1) and entered_seq <= $2 and (left_seq is null or left_seq > $2) limit 1");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        command.Parameters.Add(new NpgsqlParameter { Value = session.TenantId });
        if (await command.ExecuteScalarAsync(ct) is Guid then) return then;
        var index = await session.LoadAsync<ModelNameIndex>(Validation.InputRules.NormalizeName(name), ct);
        return index?.ModelId;
    }

    /// <summary>
    /// The model's events up to and including the sequence, in order: the whole stream up to there. The reference replay
    /// the faster reads (<see cref="ModelAtAsync"/>, <see cref="VersionViewsAtAsync"/>) are tested against; no read serves
    /// from it.
    /// </summary>
    public static async Task<IReadOnlyList<JasperFx.Events.IEvent>> EventsUpTo(IQuerySession session, Guid modelId, long sequence,
        CancellationToken ct)
    {
        // Read only as far as the stream had got at that sequence, not the events after it.
        var versions = await session.QueryAsync<long>(
            $"select coalesce(max(version), 0) from {Store.RegistryStore.Schema}.mt_events where tenant_id = ? and stream_id = ? and seq_id <= ?",
            ct, session.TenantId, modelId, sequence);
        if (versions[0] == 0) return [];
        var events = await session.Events.FetchStreamAsync(modelId, version: versions[0], token: ct);
        return events.Where(e => e.Sequence <= sequence).OrderBy(e => e.Sequence).ToList();
    }

    /// <summary>
    /// The model view at the sequence: the nearest <see cref="ModelSnapshots">snapshot</see> at or below it plus the
    /// few events since (a full replay where there is none), in <see cref="Canonical"/> order; null if the model did not
    /// exist yet or was deleted by then. Equal to <see cref="ModelAt"/> over <see cref="EventsUpTo"/>, without reading the whole stream.
    /// </summary>
    public static async Task<ModelView?> ModelAtAsync(IQuerySession session, NpgsqlDataSource data, Guid modelId, long sequence,
        CancellationToken ct)
    {
        var (view, version) = await ModelSnapshots.NearestAsync(data, Store.RegistryStore.Schema, session.TenantId, modelId, sequence, ct);
        var from = view?.Revision ?? 0;
        if (version > from)
        {
            var events = await session.Events.FetchStreamAsync(modelId, version: version, fromVersion: from + 1, token: ct);
            foreach (var e in events) view = ModelSnapshots.Fold(view, modelId, e);
        }
        // A model deleted by then is no model then.
        return view is null or { Deleted: true } ? null : Canonical(view);
    }

    /// <summary>
    /// The view with every map in ordinal key order, so a past state reads the same byte for byte whichever way it was
    /// folded (a dictionary's enumeration order depends on its history of removals, which a snapshot does not keep).
    /// </summary>
    public static ModelView Canonical(ModelView view)
    {
        view.Tags = Sorted(view.Tags);
        view.VersionsByStage = new Dictionary<string, VersionSet>(
            view.VersionsByStage.OrderBy(p => p.Key, StringComparer.Ordinal), StringComparer.Ordinal);
        view.Aliases = new Dictionary<string, int>(view.Aliases.OrderBy(p => p.Key, StringComparer.Ordinal), StringComparer.Ordinal);
        view.Deployments = new Dictionary<string, int>(view.Deployments.OrderBy(p => p.Key, StringComparer.Ordinal), StringComparer.Ordinal);
        return view;
    }

    private static Dictionary<string, string> Sorted(Dictionary<string, string> map) =>
        new(map.OrderBy(p => p.Key, StringComparer.Ordinal));

    /// <summary>The model view replayed from its events up to the sequence; null if the model did not exist yet.</summary>
    public static ModelView? ModelAt(IReadOnlyList<JasperFx.Events.IEvent> events)
    {
        ModelView? view = null;
        foreach (var e in events)
        {
            view = ModelView.Fold(view, e.Data);
            view.Revision = e.Version;
        }
        return view is { Deleted: true } ? null : view;
    }

    /// <summary>
    /// The views of <paramref name="versions"/> as they stood at the sequence, without replaying the stream: stage, aliases
    /// and deployments come from the model view then (<paramref name="modelThen"/>, itself from a snapshot), the rest from
    /// each version's own registration and metadata edits up to the sequence, read in one query that returns only those
    /// events. Versions not registered by then are left out. Equal to <see cref="VersionsAt"/> over
    /// <see cref="EventsUpTo"/> (a test compares every version at every sequence).
    /// </summary>
    public static async Task<SortedDictionary<int, ModelVersionView>> VersionViewsAtAsync(IQuerySession session, NpgsqlDataSource data,
        ModelView modelThen, IEnumerable<int> versions, long sequence, CancellationToken ct)
    {
        var views = new SortedDictionary<int, ModelVersionView>();
        var wanted = versions.Where(modelThen.HasVersion).Distinct().ToArray();
        if (wanted.Length == 0) return views;

        var options = session.DocumentStore.Options;
        var types = options.Events.AllKnownEventTypes()
            .Where(t => t.EventType == typeof(ModelVersionRegistered) || t.EventType == typeof(ModelVersionMetadataEdited))
            .ToDictionary(t => t.EventTypeName, t => t.EventType);
        var serializer = options.Serializer();
        // Compared as text: no cast that another event type's data could make fail.
        await using var command = data.CreateCommand(
            $"select type, data::text from {Store.RegistryStore.Schema}.mt_events where tenant_id = $5 and stream_id = $1 and seq_id <= $2 " +
            "and type = any($3) and data ->> 'version' = any($4) order by version");
        command.Parameters.Add(new NpgsqlParameter { Value = modelThen.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        command.Parameters.Add(new NpgsqlParameter { Value = types.Keys.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = wanted.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = session.TenantId });
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var @event = serializer.FromJson(types[reader.GetString(0)], new MemoryStream(System.Text.Encoding.UTF8.GetBytes(reader.GetString(1))));
                var number = @event switch { ModelVersionRegistered r => r.Version, ModelVersionMetadataEdited m => m.Version, _ => 0 };
                if (ModelVersionView.Fold(views.GetValueOrDefault(number), ModelVersionView.Key(modelThen.Id, number), @event) is { } view)
                    views[number] = view;
            }
        }
        foreach (var (number, view) in views)
        {
            view.Stage = modelThen.StageOf(number) ?? view.Stage;
            view.Aliases = modelThen.Aliases.Where(a => a.Value == number).Select(a => a.Key).Order(StringComparer.Ordinal).ToList();
            view.Deployments = modelThen.Deployments.Where(d => d.Value == number).Select(d => d.Key).Order(StringComparer.Ordinal).ToList();
        }
        return views;
    }

    /// <summary>Every version's view replayed from the model's events, in one pass over them, by version number.</summary>
    public static SortedDictionary<int, ModelVersionView> VersionsAt(IReadOnlyList<JasperFx.Events.IEvent> events)
    {
        var views = new Dictionary<string, ModelVersionView>();
        foreach (var e in events)
        foreach (var key in ModelVersionView.KeysOf(e.Data))
            if (ModelVersionView.Fold(views.GetValueOrDefault(key), key, e.Data) is { } view) views[key] = view;
        return new SortedDictionary<int, ModelVersionView>(views.Values.ToDictionary(v => v.VersionNumber));
    }

    /// <summary>One version's view replayed from the model's events up to the sequence; null if not registered yet.</summary>
    public static ModelVersionView? VersionAt(IReadOnlyList<JasperFx.Events.IEvent> events, Guid modelId, int version)
    {
        var key = ModelVersionView.Key(modelId, version);
        ModelVersionView? view = null;
        foreach (var e in events)
            if (ModelVersionView.KeysOf(e.Data).Contains(key))
                view = ModelVersionView.Fold(view, key, e.Data);
        return view;
    }
}
