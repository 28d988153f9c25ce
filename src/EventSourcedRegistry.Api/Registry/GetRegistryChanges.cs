using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using System.Globalization;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Registry;

public static class GetRegistryChangesEndpoint
{
    public const int DefaultLimit = 500;
    public const int MaxLimit = 5000;

    private static readonly Dictionary<string, Type> Changes = new()
    {
        ["model_version_stage_transitioned"] = typeof(ModelVersionStageTransitioned),
        ["model_alias_assigned"] = typeof(ModelAliasAssigned),
        ["model_alias_removed"] = typeof(ModelAliasRemoved),
        ["model_version_deployed"] = typeof(ModelVersionDeployed),
        ["model_version_undeployed"] = typeof(ModelVersionUndeployed),
    };

    private static readonly JsonSerializerOptions Stored = new(JsonSerializerDefaults.Web) { MaxDepth = EventSourcedRegistry.Audit.CanonicalInput.StoredMaxDepth };

    /// <summary>
    /// Every stage, alias and deployment change after <c>from</c> up to and including <c>to</c> (each a global
    /// sequence or an RFC 3339 instant, settled before it is answered; <c>to</c> defaults to the store's high-water mark), in order.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.RegistryChangesPage>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable)]
    [WolverineGet("/api/v1/registry/changes", OperationId = "GetRegistryChanges")]
    public static async Task<IResult> Get(HttpContext http, NpgsqlDataSource data, PointResolver points)
    {
        var ct = http.RequestAborted;
        var query = http.Request.Query;
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors);
        long cursor = 0;
        if (query["cursor"].ToString() is { Length: > 0 } c && (!long.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out cursor)))
            errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var deadline = points.Start();
        long from = 0, to;
        if (query["from"].ToString() is { Length: > 0 } rawFrom)
        {
            (from, var problem) = await points.Bound(http.Workspace(), rawFrom, "from", deadline, ct);
            if (problem is not null) return problem;
        }
        if (query["to"].ToString() is { Length: > 0 } rawTo)
        {
            (to, var problem) = await points.Bound(http.Workspace(), rawTo, "to", deadline, ct);
            if (problem is not null) return problem;
        }
        else to = await points.Current(http.Workspace(), deadline, ct);
        if (from > to) return Problems.Validation([("from", $"from (sequence {from}) is after to (sequence {to}).")]);

        var schema = RegistryStore.Schema;
        // The workspace's events ($4, a constant: only its partition is planned and read) and its models' names.
        await using var command = data.CreateCommand(
            "select e.seq_id, e.stream_id, e.type, e.data::text, e.timestamp, e.user_name, e.headers ->> 'reason', e.correlation_id, " +
            $"(select h.subject from {DeploymentHistory.QualifiedTable(schema)} h where h.tenant_id = $4 and h.model_id = e.stream_id " +
            $"and h.kind = '{DeploymentHistory.Kinds.Name}' and h.entered_seq <= e.seq_id and (h.left_seq is null or h.left_seq > e.seq_id) limit 1) " +
            $"from {schema}.mt_events e where e.tenant_id = $4 and e.seq_id > $1 and e.seq_id <= $2 and e.type = any($3) " +
            $"order by e.seq_id limit {limit + 1}");
        command.Parameters.Add(new NpgsqlParameter { Value = Math.Max(from, cursor) });
        command.Parameters.Add(new NpgsqlParameter { Value = to });
        command.Parameters.Add(new NpgsqlParameter { Value = Changes.Keys.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = http.Workspace().TenantId });

        var items = new List<Wire.RegistryChange>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var @event = JsonSerializer.Deserialize(reader.GetString(3), Changes[reader.GetString(2)], Stored)!;
                items.Add(Describe(reader.GetInt64(0), reader.GetGuid(1), @event, reader.GetFieldValue<DateTimeOffset>(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
            }
        }
        var next = items.Count > limit ? items[limit - 1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
        return Results.Json(new Wire.RegistryChangesPage(from, to, items.Take(limit).ToList(), next), Json.Options);
    }

    private static Wire.RegistryChange Describe(long sequence, Guid modelId, object @event, DateTimeOffset at, string? actor,
        string? headerReason, string? correlation, string? model) => @event switch
    {
        ModelVersionStageTransitioned e => new(sequence, at, model, modelId, nameof(ModelVersionStageTransitioned), e.Version,
            e.FromStage, e.ToStage, null, null, null, null, actor, e.Reason ?? headerReason, correlation),
        ModelAliasAssigned e => new(sequence, at, model, modelId, nameof(ModelAliasAssigned), e.Version,
            null, null, e.Alias, e.PreviousVersion, null, null, actor, headerReason, correlation),
        ModelAliasRemoved e => new(sequence, at, model, modelId, nameof(ModelAliasRemoved), e.Version,
            null, null, e.Alias, null, null, null, actor, headerReason, correlation),
        ModelVersionDeployed e => new(sequence, at, model, modelId, nameof(ModelVersionDeployed), e.Version,
            null, null, null, e.PreviousVersion, e.Environment, e.Target, actor, headerReason, correlation),
        ModelVersionUndeployed e => new(sequence, at, model, modelId, nameof(ModelVersionUndeployed), e.Version,
            null, null, null, null, e.Environment, e.Target, actor, headerReason, correlation),
        _ => throw new InvalidOperationException($"Not a registry change: {@event.GetType().Name}"),
    };
}
