using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using System.Globalization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Marten;
using Marten.Storage;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Audit;

public enum AuditFormat { Json, Ndjson, Csv }

/// <summary>A page of the audit log, and how far the log is complete.</summary>
/// <param name="CompleteThrough">The audit log holds every event with a sequence up to here; later ones are not projected yet.</param>
/// <param name="HighWaterMark">The store's high-water mark: every event up to it is committed.</param>
/// <param name="Lag">How many sequence numbers the audit log is behind the workspace's last stored event (0: it holds every event).</param>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, string? NextCursor, long CompleteThrough, long HighWaterMark, long Lag);

/// <summary>The filters of an audit-log query, parsed and checked; builds the SQL both the page and the export run.</summary>
public sealed class AuditQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public long? FromSequence { get; private set; }
    public long? ToSequence { get; private set; }
    public DateTimeOffset? FromTime { get; private set; }
    public DateTimeOffset? ToTime { get; private set; }
    public string? Actor { get; private set; }
    public string? Model { get; private set; }
    public IReadOnlyList<string> Types { get; private set; } = [];
    public long? After { get; private set; }
    public int Limit { get; private set; } = DefaultLimit;
    public AuditFormat Format { get; private set; }
    public IReadOnlyList<Guid> ModelIds { get; set; } = [];

    /// <summary>The workspace whose log is read: every statement binds its tenant id first.</summary>
    public WorkspaceId Workspace { get; set; } = WorkspaceId.Default;

    public static AuditQuery Parse(HttpRequest request, List<(string, string)> errors)
    {
        var query = request.Query;
        var parsed = new AuditQuery { Limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors) };

        (parsed.FromSequence, parsed.FromTime) = Point(query["from"].ToString(), "from", errors);
        (parsed.ToSequence, parsed.ToTime) = Point(query["to"].ToString(), "to", errors);

        var actor = query["actor"].ToString();
        if (actor.Length > 200) errors.Add(("actor", "An actor has at most 200 characters."));
        else if (actor.Length > 0) parsed.Actor = actor;

        var model = query["model"].ToString();
        if (model.Length > InputRules.MaxNameLength) errors.Add(("model", $"A model name has at most {InputRules.MaxNameLength} characters."));
        else if (model.Length > 0) parsed.Model = model;

        var known = RegistryStore.EventTypes.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var types = query["type"].SelectMany(t => (t ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct().ToList();
        foreach (var type in types.Where(t => !known.Contains(t)))
            errors.Add(("type", $"'{Clip(type)}' is not an event type. The types are: {string.Join(", ", known.Order(StringComparer.Ordinal))}."));
        parsed.Types = types;

        var cursor = query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            if (long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var after)) parsed.After = after;
            else errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }

        var format = query["format"].ToString();
        parsed.Format = format.ToLowerInvariant() switch
        {
            "" => FromAccept(request),
            "json" => AuditFormat.Json,
            "ndjson" => AuditFormat.Ndjson,
            "csv" => AuditFormat.Csv,
            _ => Invalid(errors, ("format", "format is json, ndjson or csv (or send Accept: application/x-ndjson or text/csv)."), AuditFormat.Json),
        };
        return parsed;
    }

    /// <summary>
    /// The SQL for the rows: never past <paramref name="completeThrough"/>, the audit projection's progress, so an
    /// export is a consistent snapshot that says exactly how far it is complete. Ordered by sequence (keyset).
    /// </summary>
    public NpgsqlCommand Command(long completeThrough, int? limit)
    {
        var where = new List<string>();
        var command = new NpgsqlCommand();
        void Add(string condition, object value)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
            where.Add(condition.Replace("@", "$" + command.Parameters.Count));
        }

        Add("tenant_id = @", Workspace.TenantId);
        Add("seq_id <= @", completeThrough);
        if (FromSequence is { } fromSequence) Add("seq_id >= @", fromSequence);
        if (ToSequence is { } toSequence) Add("seq_id <= @", toSequence);
        if (After is { } after) Add("seq_id > @", after);
        if (FromTime is { } fromTime) Add("timestamp >= @", fromTime.UtcDateTime);
        if (ToTime is { } toTime) Add("timestamp <= @", toTime.UtcDateTime);
        if (Actor is not null) Add("actor = @", Actor);
        if (Model is not null) Add("model_id = any(@)", ModelIds.ToArray());
        if (Types.Count > 0) Add("event_type = any(@)", Types.ToArray());

        command.CommandText = $"select {AuditRows.Columns} from {AuditTrail.AuditLogTable} where {string.Join(" and ", where)} order by seq_id"
                              + (limit is { } l ? $" limit {l}" : "");
        return command;
    }

    /// <summary>A sequence number (digits) or an RFC 3339 instant with an offset.</summary>
    private static (long?, DateTimeOffset?) Point(string raw, string field, List<(string, string)> errors)
    {
        if (raw.Length == 0) return (null, null);
        if (PointsInTime.TryParseBound(raw, field, out var sequence, out var instant, out var error)) return (sequence, instant);
        errors.Add((field, error));
        return (null, null);
    }

    private static AuditFormat FromAccept(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        foreach (var media in accept.OrderByDescending(m => m.Quality ?? 1))
        {
            if (media.Quality == 0) continue;
            var type = media.MediaType.Value?.ToLowerInvariant();
            if (type is "application/x-ndjson" or "application/ndjson" or "application/jsonl") return AuditFormat.Ndjson;
            if (type is "text/csv") return AuditFormat.Csv;
            if (type is "application/json" or "*/*" or "application/*") return AuditFormat.Json;
        }
        return AuditFormat.Json;
    }

    private static AuditFormat Invalid(List<(string, string)> errors, (string, string) error, AuditFormat fallback)
    {
        errors.Add(error);
        return fallback;
    }

    private static string Clip(string value) => value.Length > 60 ? value[..60] + "…" : value;
}

/// <summary>The audit log's columns as the API reads them.</summary>
public static class AuditRows
{
    public const string Columns =
        "seq_id, timestamp, model_id, model_name, version, event_type, actor, reason, correlation_id, causation_id, summary";

    public static AuditEntry Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        new DateTimeOffset(reader.GetFieldValue<DateTime>(1), TimeSpan.Zero),
        reader.GetGuid(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetInt32(4),
        reader.GetString(5),
        reader.IsDBNull(6) ? null : reader.GetString(6),
        reader.IsDBNull(7) ? null : reader.GetString(7),
        reader.IsDBNull(8) ? null : reader.GetString(8),
        reader.IsDBNull(9) ? null : reader.GetString(9),
        reader.GetString(10));
}

public static class QueryAuditLogEndpoint
{
    public const string CompleteThroughHeader = "X-Audit-Complete-Through";
    public const string HighWaterMarkHeader = "X-Audit-High-Water-Mark";

    /// <summary>
    /// The audit log, one row per event, oldest first. Filters: <c>from</c>/<c>to</c> (inclusive; a sequence number or an
    /// RFC 3339 instant), <c>actor</c>, <c>model</c> (any name the model has carried, or its id), <c>type</c> (repeatable or
    /// comma-separated); keyset paging with <c>cursor</c>/<c>limit</c>. <c>Accept: application/x-ndjson</c> or <c>text/csv</c>
    /// (or <c>format=</c>) streams the whole filtered log instead. Every answer says how far the log is complete; with
    /// <c>to</c> the answer is complete up to it or refused (503, Retry-After) once the wait for that runs out.
    /// </summary>
    [Authorize(Policy = Policies.Audit)]
    [ProducesResponseType<Wire.AuditPage>(StatusCodes.Status200OK)]
    [AlsoStreams("application/x-ndjson", "text/csv")]
    [ProducesProblems(StatusCodes.Status503ServiceUnavailable)]
    [WolverineGet("/api/v1/audit", OperationId = "QueryAuditLog")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceStore workspace, PointResolver points)
    {
        var errors = new List<(string, string)>();
        var query = AuditQuery.Parse(http.Request, errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        query.Workspace = workspace.Workspace;

        var ct = http.RequestAborted;
        if (await Settle(query, points, ct) is { } unsettled) return unsettled;
        var connection = workspace.Documents.Storage.Database.CreateConnection(ConnectionUsage.Read);
        try
        {
            await connection.OpenAsync(ct);
            if (query.Model is not null)
            {
                query.ModelIds = await ModelIds(workspace, connection, query.Model, ct);
                if (query.ModelIds.Count == 0)
                    return Problems.Problem(StatusCodes.Status404NotFound, "Model not found",
                        $"No model has ever been registered or renamed under the name '{query.Model}'.");
            }

            var progress = await AuditProgress.ReadAsync(connection, workspace.Workspace, ct);
            http.Response.Headers[CompleteThroughHeader] = progress.AuditLogThrough.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers[HighWaterMarkHeader] = progress.HighWaterMark.ToString(CultureInfo.InvariantCulture);

            if (query.Format != AuditFormat.Json)
            {
                // The export owns the connection from here and streams until the last row.
                var export = new AuditExport(connection, query, progress);
                connection = null;
                return export;
            }

            await using var command = query.Command(progress.AuditLogThrough, query.Limit + 1);
            command.Connection = connection;
            var items = new List<AuditEntry>(query.Limit + 1);
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) items.Add(AuditRows.Read(reader));
            }
            string? next = null;
            if (items.Count > query.Limit)
            {
                items.RemoveAt(items.Count - 1);
                next = items[^1].Sequence.ToString(CultureInfo.InvariantCulture);
            }
            return Results.Json(new AuditPage(items, next, progress.AuditLogThrough, progress.HighWaterMark, progress.AuditLogLag), Json.Options);
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// An upper bound asks for every event up to it: the bound must be settled and the audit log (an async projection)
    /// complete through its last sequence, else the answer would silently miss events. Without one, the answer is what
    /// the log holds, with how far that is complete.
    /// </summary>
    private static async Task<IResult?> Settle(AuditQuery query, PointResolver points, CancellationToken ct)
    {
        var deadline = points.Start();
        long through;
        if (query.ToSequence is { } sequence)
        {
            (through, var problem) = await points.Sequence(query.Workspace, sequence, "to", deadline, ct);
            if (problem is not null) return problem;
        }
        else if (query.ToTime is { } instant)
        {
            (through, var problem) = await points.Instant(query.Workspace, instant, "to", deadline, ct);
            if (problem is not null) return problem;
        }
        else return null;
        return await points.AuditLogCovers(query.Workspace, through, deadline, ct);
    }

    /// <summary>
    /// The model that holds the name now, every model that ever held it (from the log's own name history),
    /// or the model with that id.
    /// </summary>
    private static async Task<IReadOnlyList<Guid>> ModelIds(WorkspaceStore workspace, NpgsqlConnection connection, string model, CancellationToken ct)
    {
        var ids = new HashSet<Guid>();
        if (Guid.TryParse(model, out var id)) ids.Add(id);

        await using (var session = workspace.QuerySession())
        {
            if (await session.LoadAsync<ModelNameIndex>(InputRules.NormalizeName(model), ct) is { } current) ids.Add(current.ModelId);
        }

        await using var command = new NpgsqlCommand($"select model_id from {AuditTrail.ModelNamesTable} where tenant_id = $2 and name_key = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = InputRules.NormalizeName(model) });
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.Workspace.TenantId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetGuid(0));
        return ids.ToList();
    }
}
