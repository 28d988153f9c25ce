using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using System.Text;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Registry;

public static class GetRegistryEndpoint
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 1000;

    /// <summary>
    /// Every model's stages, aliases and deployments at a point in history (now, when none is asked), by the
    /// names the models had then, paged by name. Answered from the name intervals and the registry-state rows, never
    /// by replaying streams.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.RegistryPage>(StatusCodes.Status200OK)]
    [ReadsPointInTime]
    [WolverineGet("/api/v1/registry", OperationId = "GetRegistry")]
    public static async Task<IResult> Get(HttpContext http, NpgsqlDataSource data, PointResolver points)
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

        var (point, problem) = await points.Resolve(http.Request, http.Workspace(), ct);
        if (problem is not null) return problem;
        var sequence = point!.Sequence;

        var names = DeploymentHistory.QualifiedTable(RegistryStore.Schema);
        var states = RegistryStates.QualifiedTable(RegistryStore.Schema);
        // One round trip: the page of names held at the sequence (an index-only walk of ix_deployment_history_names),
        // then per model its last registry-state row at or below the sequence (one probe of the primary key), a few
        // hundred bytes of JSON written to the response as they are, with each run of versions expanded. Both within the
        // request's workspace ($2): its sequence numbers and model ids mean nothing in another.
        await using var command = data.CreateCommand(
            $"with page as (select model_id, subject, lower(subject) as sort from {names} where tenant_id = $2 " +
            $"and kind = '{DeploymentHistory.Kinds.Name}' and entered_seq <= $1 and (left_seq is null or left_seq > $1) " +
            (after is null ? "" : "and (lower(subject), model_id) > ($3, $4) ") +
            $"order by lower(subject), model_id limit {limit + 1}) " +
            $"select p.model_id, p.subject, (select s.state from {states} s where s.tenant_id = $2 and s.model_id = p.model_id " +
            "and s.entered_seq <= $1 order by s.entered_seq desc limit 1) from page p order by p.sort, p.model_id");
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        command.Parameters.Add(new NpgsqlParameter { Value = http.Workspace().TenantId });
        if (after is { } a)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = a.Name });
            command.Parameters.Add(new NpgsqlParameter { Value = a.Id });
        }
        var models = new List<PastState>(limit + 1);
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                models.Add(new PastState(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        var page = models.Count > limit ? models.GetRange(0, limit) : models;
        var next = models.Count > limit ? EncodeCursor(page[^1].Name.ToLowerInvariant(), page[^1].Id) : null;
        return new RegistryPageResult(page, next, point);
    }

    /// <summary>One model of the page: its name then, and its stored registry state then (null: nothing held yet).</summary>
    private sealed record PastState(Guid Id, string Name, string? State);

    /// <summary>
    /// Writes the page straight to the response — <c>{items: [{model, modelId, archived, versionsByStage, aliases,
    /// deployments}], nextCursor?, asOfSequence, asOf?}</c>, the stamps as <see cref="PastModel.Stamped"/> adds them —
    /// without building a document tree of 1,000 models first; the shape is the shared contract <see cref="Wire.RegistryPage"/>.
    /// </summary>
    private sealed class RegistryPageResult(List<PastState> models, string? next, PointInTime point) : IResult
    {
        private static readonly byte[] Empty = Encoding.UTF8.GetBytes(RegistryState.Empty);

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
                RegistryState.WriteExpanded(json, m.State is null ? Empty : Encoding.UTF8.GetBytes(m.State));
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
