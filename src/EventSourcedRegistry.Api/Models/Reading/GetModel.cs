using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Reading;

public static class GetModelEndpoint
{
    /// <summary>The model view, with its revision as ETag for If-Match on later commands; <c>asOf</c>/<c>atSequence</c> replay the past.</summary>
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}", OperationId = "GetModel")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store, PastModels pastModels)
    {
        await using var session = store.QuerySession();
        if (PointsInTime.Requested(http.Request))
        {
            var (past, problem) = await pastModels.Load(http, name, session);
            return problem ?? past!.Json(past.Model);
        }
        return await StoredModelView.WriteAsync(session, name, http) ? Results.Empty : Problems.ModelNotFound(name);
    }
}

/// <summary>
/// The current model view answered from its stored JSON, without building a <see cref="ModelView"/>: the view of a long
/// history lists every version it ever had, and deserializing it only to serialize it again was the part of a read
/// that grew with the history.
/// </summary>
/// <remarks>
/// The stored JSON (Marten's System.Text.Json, camelCase, enums as strings) and the wire's (<see cref="Json.Options"/>)
/// name every member alike but differ in what they leave out: the store writes nulls, the wire omits them. The stored
/// form is left as it is (every document and event of every store would need rewriting, and events are a contract);
/// the query reshapes it to the wire's meaning instead, in PostgreSQL, over the view's dozen top-level members:
/// <list type="bullet">
/// <item>members a view of today has (a view written by an older build may carry one since removed, which
/// deserialization dropped), with today's defaults for members it lacks (deserialization gave them);</item>
/// <item>no null members at the top (<c>WhenWritingNull</c>) and no <c>deleted: false</c> (its <c>WhenWritingDefault</c>);</item>
/// <item>the pending requests' null members stripped at every depth: they hold only strings, numbers, flags and dates, never
/// client JSON. The metadata schema is client JSON, whose own nulls are content and stay.</item>
/// </list>
/// What is not kept is the spelling: PostgreSQL's jsonb text orders members by key length, spaces its separators and escapes
/// only what JSON requires; parsed, the answer equals the serialized view (when_reading_a_model).
/// </remarks>
public static class StoredModelView
{
    private static readonly string[] Members = [.. Json.Options.GetTypeInfo(typeof(ModelView)).Properties.Select(p => p.Name)];
    private static readonly string Defaults = System.Text.Json.JsonSerializer.Serialize(new ModelView(), Json.Options);

    private static readonly string Sql =
        "select coalesce((d.data ->> 'revision')::bigint, 0), " +
        "(select jsonb_object_agg(m.key, case when m.key = 'pendingRequests' then jsonb_strip_nulls(m.value) else m.value end) " +
        " from jsonb_each($3::jsonb || d.data) as m " +
        " where m.key = any($4) and m.value <> 'null'::jsonb and not (m.key = 'deleted' and m.value = 'false'::jsonb))::text " +
        $"from {RegistryTables.ModelView} as d where d.tenant_id = $1 and d.normalized_name = $2";

    /// <summary>Writes the view (200, its revision as ETag) and answers true; false, writing nothing, when there is no such model.</summary>
    public static async Task<bool> WriteAsync(IQuerySession session, string name, HttpContext http)
    {
        var ct = http.RequestAborted;
        await using var command = new NpgsqlCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter { Value = session.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = InputRules.NormalizeName(name) });
        command.Parameters.Add(new NpgsqlParameter { Value = Defaults });
        command.Parameters.Add(new NpgsqlParameter { Value = Members });
        await using var reader = await session.ExecuteReaderAsync(command, ct);
        if (!await reader.ReadAsync(ct)) return false;

        Revisions.Write(http.Response, reader.GetInt64(0));
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var body = reader.GetStream(1);
        await body.CopyToAsync(http.Response.Body, ct);
        return true;
    }
}
