using Microsoft.AspNetCore.Authorization;
using System.Text;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Registry;

public sealed record RegistryModelState(
    string Model,
    Guid ModelId,
    bool Archived,
    IReadOnlyDictionary<string, List<int>> VersionsByStage,
    IReadOnlyDictionary<string, int> Aliases,
    IReadOnlyDictionary<string, int> Deployments);

public sealed record RegistryPage(IReadOnlyList<RegistryModelState> Items, string? NextCursor);

public static class GetRegistryEndpoint
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 1000;

    /// <summary>
    /// Every model's stages, aliases and deployments at a point in history (now, when none is asked), by the
    /// names the models had then, paged by name. Answered from the deployment-history intervals, never by
    /// replaying streams.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [WolverineGet("/api/v1/registry", OperationId = "GetRegistry")]
    public static async Task<IResult> Get(HttpContext http, NpgsqlDataSource data)
    {
        var ct = http.RequestAborted;
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(http.Request.Query["limit"], DefaultLimit, MaxLimit, errors);
        (string Name, Guid Id)? after = null;
        if (http.Request.Query["cursor"].ToString() is { Length: > 0 } cursor)
        {
            after = DecodeCursor(cursor);
            if (after is null) errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var (point, problem) = await PointsInTime.Resolve(http.Request, data, ct);
        if (problem is not null) return problem;
        var sequence = point!.Sequence;

        var table = DeploymentHistory.QualifiedTable(RegistryStore.Schema);
        // One round trip: the page of names held at the sequence (an index-only walk of ix_deployment_history_names),
        // then per model the intervals held at it — the open ones and those closed after it, both index-only ranges of
        // ix_deployment_history_held — folded into one row of arrays per model (a thousand rows, not one per interval).
        await using var command = data.CreateCommand(
            $"with page as (select model_id, subject, lower(subject) as sort from {table} where kind = '{DeploymentHistory.Kinds.Name}' " +
            "and entered_seq <= $1 and (left_seq is null or left_seq > $1) " +
            (after is null ? "" : "and (lower(subject), model_id) > ($2, $3) ") +
            $"order by lower(subject), model_id limit {limit + 1}) " +
            "select p.model_id, p.subject, h.kinds, h.subjects, h.targets, h.versions from page p cross join lateral (" +
            "select array_agg(kind) kinds, array_agg(subject) subjects, array_agg(target) targets, array_agg(version) versions from (" +
            $"select kind, subject, target, version from {table} o where o.model_id = p.model_id and o.left_seq is null " +
            $"and o.entered_seq <= $1 and o.kind <> '{DeploymentHistory.Kinds.Name}' " +
            $"union all select kind, subject, target, version from {table} c where c.model_id = p.model_id and c.left_seq > $1 " +
            $"and c.entered_seq <= $1 and c.kind <> '{DeploymentHistory.Kinds.Name}') held) h " +
            "order by p.sort, p.model_id");
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        if (after is { } a)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = a.Name });
            command.Parameters.Add(new NpgsqlParameter { Value = a.Id });
        }
        var models = new List<PastState>(limit + 1);
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var model = new PastState(reader.GetGuid(0), reader.GetString(1));
                models.Add(model);
                if (reader.IsDBNull(2)) continue; // nothing held (no versions, aliases or deployments)
                var kinds = reader.GetFieldValue<string[]>(2);
                var subjects = reader.GetFieldValue<string[]>(3);
                var targets = reader.GetFieldValue<string?[]>(4);
                var versions = reader.GetFieldValue<int?[]>(5);
                for (var i = 0; i < kinds.Length; i++) model.Add(kinds[i], subjects[i], targets[i], versions[i]);
            }
        }

        var page = models.Count > limit ? models.GetRange(0, limit) : models;
        var next = models.Count > limit ? EncodeCursor(page[^1].Name.ToLowerInvariant(), page[^1].Id) : null;
        return new RegistryPageResult(page, next, point);
    }

    /// <summary>One model's held intervals as read, grouped the way the response lists them.</summary>
    private sealed class PastState(Guid id, string name)
    {
        public Guid Id { get; } = id;
        public string Name { get; } = name;
        public bool Archived { get; private set; }
        public List<(string Stage, int Version)> Stages { get; } = [];
        public List<(string Alias, int Version)> Aliases { get; } = [];
        public List<(string Slot, int Version)> Deployments { get; } = [];

        public void Add(string kind, string subject, string? target, int? version)
        {
            switch (kind)
            {
                case DeploymentHistory.Kinds.Stage: Stages.Add((subject, version!.Value)); break;
                case DeploymentHistory.Kinds.Alias: Aliases.Add((subject, version!.Value)); break;
                case DeploymentHistory.Kinds.Deployment:
                    Deployments.Add((EventSourcedRegistry.Models.ModelView.SlotOf(subject, target), version!.Value));
                    break;
                case DeploymentHistory.Kinds.Archived: Archived = true; break;
            }
        }
    }

    /// <summary>
    /// Writes the page straight to the response as the <see cref="RegistryPage"/> shape (plus <c>asOfSequence</c> and
    /// <c>asOf</c>, as <see cref="PastModel.Stamped"/> adds them), without building a document tree of 1,000 models first.
    /// </summary>
    private sealed class RegistryPageResult(List<PastState> models, string? next, PointInTime point) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/json; charset=utf-8";
            await using var json = new System.Text.Json.Utf8JsonWriter(http.Response.BodyWriter.AsStream());
            json.WriteStartObject();
            json.WriteStartArray("items");
            foreach (var m in models)
            {
                json.WriteStartObject();
                json.WriteString("model", m.Name);
                json.WriteString("modelId", m.Id);
                json.WriteBoolean("archived", m.Archived);
                json.WriteStartObject("versionsByStage");
                m.Stages.Sort((x, y) => string.CompareOrdinal(x.Stage, y.Stage) is var c and not 0 ? c : x.Version.CompareTo(y.Version));
                for (var i = 0; i < m.Stages.Count; i++)
                {
                    if (i == 0 || m.Stages[i].Stage != m.Stages[i - 1].Stage)
                    {
                        if (i > 0) json.WriteEndArray();
                        json.WriteStartArray(m.Stages[i].Stage);
                    }
                    json.WriteNumberValue(m.Stages[i].Version);
                }
                if (m.Stages.Count > 0) json.WriteEndArray();
                json.WriteEndObject();
                WriteMap(json, "aliases", m.Aliases);
                WriteMap(json, "deployments", m.Deployments);
                json.WriteEndObject();
                if (json.BytesPending > 16_384) await json.FlushAsync(http.RequestAborted);
            }
            json.WriteEndArray();
            if (next is not null) json.WriteString("nextCursor", next);
            json.WriteNumber("asOfSequence", point.Sequence);
            if (point.Instant is { } instant) json.WriteString("asOf", instant);
            json.WriteEndObject();
            await json.FlushAsync(http.RequestAborted);
        }

        private static void WriteMap(System.Text.Json.Utf8JsonWriter json, string name, List<(string Key, int Version)> entries)
        {
            json.WriteStartObject(name);
            entries.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
            foreach (var (key, version) in entries) json.WriteNumber(key, version);
            json.WriteEndObject();
        }
    }

    private static string EncodeCursor(string name, Guid id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{name}\n{id:N}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string, Guid)? DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('\n');
            return parts.Length == 2 && Guid.TryParseExact(parts[1], "N", out var id) ? (parts[0], id) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
