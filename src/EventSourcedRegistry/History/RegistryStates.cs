using System.Buffers;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql.Tables;

namespace EventSourcedRegistry.History;

/// <summary>
/// A model's place in the registry at one point: archived or not, its versions by stage, its aliases and its
/// deployments — what <c>GET /api/v1/registry</c> lists for the model. It is that part of the model's
/// <see cref="ModelView"/>, folded by <see cref="ModelView.Fold"/> (no rule of its own), kept in a compact stored form.
/// </summary>
public static class RegistryState
{
    /// <summary>The state before a model's first event, and of a model with nothing held.</summary>
    public const string Empty = """{"archived":false,"versionsByStage":{},"aliases":{},"deployments":{}}""";

    /// <summary>
    /// Whether an event of this type can change the state (renames and metadata edits cannot): events of other types
    /// need not be folded or encoded to keep the rows.
    /// </summary>
    public static bool Concerns(object data) => data is ModelArchived or ModelRestored or ModelVersionRegistered
        or ModelVersionStageTransitioned or ModelAliasAssigned or ModelAliasRemoved or ModelVersionDeployed or ModelVersionUndeployed
        or ModelVersionDeleted;

    /// <summary>
    /// The stored form of the state <paramref name="view"/> holds: compact JSON with keys in ordinal order and each stage's
    /// versions as ascending runs — a lone version as a number, two or more consecutive ones as <c>[first, last]</c> — so
    /// a model with thousands of archived versions stores a few runs, not thousands of numbers, in every row of its history.
    /// </summary>
    public static string Encode(ModelView view)
    {
        // One buffer and writer per thread, reused: a rebuild encodes a row for most of the events it folds.
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        if (_writer is null) _writer = new Utf8JsonWriter(buffer);
        else _writer.Reset(buffer);
        var json = _writer;
        json.WriteStartObject();
        json.WriteBoolean("archived", view.Archived);
        json.WriteStartObject("versionsByStage");
        foreach (var stage in Sorted(view.VersionsByStage.Keys))
        {
            var versions = view.VersionsByStage[stage]; // ascending, as the fold keeps them
            if (versions.Count == 0) continue;
            json.WritePropertyName(stage);
            VersionRuns.Write(json, versions);
        }
        json.WriteEndObject();
        WriteMap(json, "aliases", view.Aliases);
        WriteMap(json, "deployments", view.Deployments);
        json.WriteEndObject();
        json.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? _buffer;
    [ThreadStatic] private static Utf8JsonWriter? _writer;

    private static IEnumerable<string> Sorted(IEnumerable<string> keys) => keys.Order(StringComparer.Ordinal);

    private static void WriteMap(Utf8JsonWriter json, string name, Dictionary<string, int> map)
    {
        json.WriteStartObject(name);
        foreach (var key in Sorted(map.Keys)) json.WriteNumber(key, map[key]);
        json.WriteEndObject();
    }

    /// <summary>
    /// Reads the stored form back (<see cref="Encode"/>'s inverse) as a view holding only that state, into which the
    /// model's next events fold.
    /// </summary>
    public static ModelView Decode(string encoded)
    {
        var view = new ModelView();
        using var doc = JsonDocument.Parse(encoded);
        var root = doc.RootElement;
        view.Archived = root.GetProperty("archived").GetBoolean();
        foreach (var stage in root.GetProperty("versionsByStage").EnumerateObject())
        {
            var versions = view.VersionsByStage[stage.Name] = [];
            var runs = new Utf8JsonReader(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(stage.Value));
            runs.Read();
            VersionRuns.Read(ref runs, versions);
        }
        foreach (var alias in root.GetProperty("aliases").EnumerateObject()) view.Aliases[alias.Name] = alias.Value.GetInt32();
        foreach (var slot in root.GetProperty("deployments").EnumerateObject()) view.Deployments[slot.Name] = slot.Value.GetInt32();
        return view;
    }

    /// <summary>
    /// Writes the stored form's properties into the object <paramref name="json"/> has open, with every run expanded
    /// to its versions: the response shape (<c>archived</c>, <c>versionsByStage</c>, <c>aliases</c>, <c>deployments</c>).
    /// Token by token, without building a document.
    /// </summary>
    public static void WriteExpanded(Utf8JsonWriter json, ReadOnlySpan<byte> encoded)
    {
        var reader = new Utf8JsonReader(encoded);
        var arrays = 0; // open arrays: 1 inside a stage's list
        reader.Read(); // the state's own object: its properties go into the open one
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    if (reader.ValueIsEscaped) json.WritePropertyName(reader.GetString()!);
                    else json.WritePropertyName(reader.ValueSpan);
                    break;
                case JsonTokenType.StartObject:
                    json.WriteStartObject();
                    break;
                case JsonTokenType.EndObject:
                    if (reader.CurrentDepth == 0) return;
                    json.WriteEndObject();
                    break;
                case JsonTokenType.StartArray when arrays == 1:
                    // A run in a stage's list, checked as every read of the stored form checks it: a damaged run (say one
                    // ending at int.MaxValue, which a counting loop would never finish) is refused, not expanded.
                    var (first, last) = VersionRuns.ReadRun(ref reader);
                    for (var v = first; v <= last; v++) json.WriteNumberValue(v);
                    break;
                case JsonTokenType.StartArray:
                    arrays++;
                    json.WriteStartArray();
                    break;
                case JsonTokenType.EndArray:
                    arrays--;
                    json.WriteEndArray();
                    break;
                case JsonTokenType.Number:
                    json.WriteNumberValue(reader.GetInt32());
                    break;
                case JsonTokenType.True:
                case JsonTokenType.False:
                    json.WriteBooleanValue(reader.TokenType == JsonTokenType.True);
                    break;
                default:
                    throw new FormatException($"Unexpected {reader.TokenType} in a stored registry state.");
            }
        }
    }
}

/// <summary>One row of <see cref="RegistryStates"/>: a model's state from the event at <see cref="EnteredSeq"/> on.</summary>
public sealed record RegistryStateRow(Guid ModelId, long EnteredSeq, string State);

/// <summary>
/// A model's <see cref="RegistryStates"/> rows as its view is folded event by event: after each event, the state the view
/// holds, when it differs from the last row's (<paramref name="last"/>: the state before the first event given).
/// </summary>
public sealed class RegistryStateRows(Guid modelId, string last = RegistryState.Empty)
{
    /// <summary>The row of the event <paramref name="data"/> at <paramref name="sequence"/>, folded into <paramref name="view"/>; null if it changed nothing.</summary>
    public RegistryStateRow? After(object data, ModelView view, long sequence)
    {
        if (!RegistryState.Concerns(data)) return null;
        var state = RegistryState.Encode(view);
        if (state == last) return null;
        last = state;
        return new RegistryStateRow(modelId, sequence, state);
    }
}

/// <summary>
/// The registry-state view: per model, one row for each event that changed its <see cref="RegistryState"/>, holding the
/// state from that sequence until the next row. The registry as of sequence S reads, per model, the last row at or
/// below S — one index probe and one small value per model, where the intervals hold a row per version. Derived data:
/// rebuilt with <c>DeploymentHistory</c> by the projection rebuild, and written inline with the events. Rows belong to one
/// workspace (<c>tenant_id</c> leads the key).
/// </summary>
public static class RegistryStates
{
    public const string Table = "registry_states";
    public static string QualifiedTable(string schema) => $"{schema}.{Table}";

    internal static Table Define(string schema)
    {
        var table = new Table(DeploymentHistory.ObjectName(schema, Table));
        table.AddColumn("tenant_id", "text").NotNull().AsPrimaryKey();
        table.AddColumn("model_id", "uuid").AsPrimaryKey();
        table.AddColumn("entered_seq", "bigint").AsPrimaryKey();
        table.AddColumn("state", "text").NotNull();
        return table;
    }

    /// <summary>
    /// The rows a model's events yield, in order (<paramref name="events"/>: data and store-assigned sequence, from the
    /// model's first event on) — what the inline projection writes one event at a time.
    /// </summary>
    public static IEnumerable<RegistryStateRow> Of(Guid modelId, IEnumerable<(object Data, long Sequence)> events)
    {
        ModelView? view = null;
        var rows = new RegistryStateRows(modelId);
        foreach (var (data, sequence) in events)
            if (rows.After(data, view = ModelView.Fold(view, data), sequence) is { } row) yield return row;
    }

    /// <summary>COPYs one workspace's rows into <paramref name="table"/> (the view, or a rebuild's scratch table).</summary>
    public static async Task<long> CopyAsync(NpgsqlConnection connection, string table, WorkspaceId workspace, IEnumerable<RegistryStateRow> rows,
        CancellationToken ct)
    {
        long count = 0;
        await using var writer = await connection.BeginBinaryImportAsync(
            $"copy {table} (tenant_id, model_id, entered_seq, state) from stdin (format binary)", ct);
        foreach (var row in rows)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(workspace.TenantId, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(row.ModelId, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(row.EnteredSeq, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(row.State, NpgsqlDbType.Text, ct);
            count++;
        }
        await writer.CompleteAsync(ct);
        return count;
    }
}

/// <summary>
/// Keeps <see cref="RegistryStates"/> inline, in the transaction that appends the events. A model's state before the
/// append is what the command decided against when it said so (<see cref="Decided"/>), else its last stored row (one
/// query for all the models of an append, none for a model registered in it); each event that changes it adds a row at
/// the event's own sequence, read from its row by event id as the deployment history does. An append is one session,
/// so one workspace: every read and row is bound to <c>operations.TenantId</c>.
/// </summary>
public sealed class RegistryStateProjection(string schema) : IProjection
{
    /// <summary>States handed over by <see cref="Decided"/>, per session; gone with the session.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IDocumentOperations, Dictionary<Guid, (long Revision, string State)>> Known = new();

    /// <summary>
    /// A command tells the projection of its session the model's state it decided against: <paramref name="before"/>, the
    /// model's view at stream version <paramref name="revision"/>, read with the stream locked. The projection then starts from
    /// it instead of reading the model's last row (issue 17: one read less per command) — but only for an append that
    /// begins right after that version, so a view of another moment is never taken for the state before the append.
    /// Encoded now, as a stored row would hold it: the inline model-view projection folds the appended events into the
    /// fetched view in place.
    /// </summary>
    public static void Decided(IDocumentOperations session, ModelView before, long revision)
    {
        var known = Known.GetValue(session, _ => []);
        known[before.Id] = (revision, RegistryState.Encode(before));
    }

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        Known.TryGetValue(operations, out var decided);
        Dictionary<Guid, List<IEvent>>? streams = null;
        // Each handed-over model's first stream version in this append (events of a stream come in order).
        Dictionary<Guid, long>? first = null;
        foreach (var e in events)
        {
            if (decided is not null && decided.ContainsKey(e.StreamId)) (first ??= []).TryAdd(e.StreamId, e.Version);
            if (!RegistryState.Concerns(e.Data) && e.Data is not ModelRegistered) continue;
            streams ??= [];
            if (!streams.TryGetValue(e.StreamId, out var list)) streams[e.StreamId] = list = [];
            list.Add(e);
        }
        if (streams is null) return;

        var table = RegistryStates.QualifiedTable(schema);
        // A model registered in this append starts empty; one whose command handed over the state it decided against
        // starts from that; any other starts from its last row.
        Dictionary<Guid, string>? handed = null;
        foreach (var modelId in streams.Keys)
            if (decided is not null && decided.TryGetValue(modelId, out var d) && first!.TryGetValue(modelId, out var at) && at > 0 && d.Revision == at - 1)
                (handed ??= [])[modelId] = d.State;
        var existing = streams.Where(s => s.Value[0].Data is not ModelRegistered && s.Value.Any(e => RegistryState.Concerns(e.Data))
                                          && handed?.ContainsKey(s.Key) != true)
            .Select(s => s.Key).ToArray();
        var tenant = operations.TenantId;
        var before = existing.Length == 0 ? [] : await Latest(operations, table, tenant, existing, cancellation);

        foreach (var (modelId, appended) in streams)
        {
            // The state before the append, as a view holding only it: the model's events fold into it as into its view.
            var start = handed?.GetValueOrDefault(modelId) ?? before.GetValueOrDefault(modelId) ?? RegistryState.Empty;
            ModelView? view = null;
            var rows = new RegistryStateRows(modelId, start);
            foreach (var e in appended)
            {
                if (!RegistryState.Concerns(e.Data)) continue;
                view = ModelView.Fold(view ?? RegistryState.Decode(start), e.Data);
                if (rows.After(e.Data, view, e.Sequence) is not { } row) continue; // its sequence: the event row's, below
                var (source, parameters) = AppendedEventRow.Source(operations, e, schema);
                operations.QueueSqlCommand(
                    $"with ev as ({source}) insert into {table} (tenant_id, model_id, entered_seq, state) select ev.tenant_id, ?, ev.seq_id, ? from ev",
                    [.. parameters, modelId, row.State]);
            }
        }
    }

    private static async Task<Dictionary<Guid, string>> Latest(IDocumentOperations operations, string table, string tenant, Guid[] models,
        CancellationToken ct)
    {
        var latest = new Dictionary<Guid, string>(models.Length);
        await using var command = new NpgsqlCommand(
            $"select i.id, (select s.state from {table} s where s.tenant_id = $2 and s.model_id = i.id order by s.entered_seq desc limit 1) " +
            "from unnest($1::uuid[]) as i(id)");
        command.Parameters.Add(new NpgsqlParameter { Value = models });
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        await using var reader = await operations.ExecuteReaderAsync(command, ct);
        while (await reader.ReadAsync(ct))
            if (!reader.IsDBNull(1)) latest[reader.GetGuid(0)] = reader.GetString(1);
        return latest;
    }
}
