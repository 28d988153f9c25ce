using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Api.Workspaces;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Approvals;

public static class ListTransitionRequestsEndpoint
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    /// <summary>
    /// The model's transition requests, newest first, keyset-paged (<c>cursor</c>, <c>limit</c>); <c>state</c> filters
    /// (pending, approved, rejected, superseded). The page is cut in PostgreSQL from the model's request view, so an
    /// answer carries at most <c>limit</c> requests however many the model has. Requests are ordered by their place in
    /// the view, which only ever appends (in event order), so a position is a cursor that never shifts.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.TransitionRequestList>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}/requests", OperationId = "ListTransitionRequests")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store, NpgsqlDataSource data, ApprovalPolicy approvals,
        TimeProvider time)
    {
        var query = http.Request.Query;
        var errors = new List<(string, string)>();
        var state = query["state"].ToString();
        if (state.Length > 0 && !RequestStates.All.Contains(state.ToLowerInvariant()))
            errors.Add(("state", $"'{(state.Length > 40 ? state[..40] + "…" : state)}' is not a request state; the states are {string.Join(", ", RequestStates.All)}."));
        var limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors);
        long? after = null;
        if (query["cursor"].ToString() is { Length: > 0 } cursor)
        {
            after = DecodeCursor(cursor);
            if (after is null) errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        await using var session = store.QuerySession();
        var model = await session.FindModel(name, http.RequestAborted);
        if (model is null) return Problems.ModelNotFound(name);

        await using var command = data.CreateCommand($"""
            select r.value::text, r.position
            from {RegistryTables.TransitionRequests} as d
            cross join lateral jsonb_array_elements(d.data -> 'requests') with ordinality as r(value, position)
            where d.tenant_id = $4 and d.id = $1
              and ($2::text is null or r.value ->> 'state' = $2)
              and ($3::bigint is null or r.position < $3)
            order by r.position desc
            limit {limit + 1}
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = model.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = state.Length > 0 ? state.ToLowerInvariant() : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } position ? position : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = store.Workspace.TenantId });

        var serializer = store.Documents.Options.Serializer();
        var page = new List<(TransitionRequest Request, long Position)>();
        await using (var reader = await command.ExecuteReaderAsync(http.RequestAborted))
            while (await reader.ReadAsync(http.RequestAborted))
                page.Add((serializer.FromJson<TransitionRequest>(new MemoryStream(Encoding.UTF8.GetBytes(reader.GetString(0)))), reader.GetInt64(1)));

        var now = time.GetUtcNow();
        var shown = page.Take(limit).ToList();
        var versions = shown.Count == 0
            ? []
            : (await session.LoadManyAsync<ModelVersionView>(http.RequestAborted,
                shown.Select(r => ModelVersionView.Key(model.Id, r.Request.VersionNumber)).Distinct().ToArray())).ToDictionary(v => v.VersionNumber);
        var items = shown.Select(r => TransitionRequestResponse.From(model.Name, r.Request, approvals, now,
            versions.GetValueOrDefault(r.Request.VersionNumber)?.Artifact)).ToList();
        var next = page.Count > limit ? EncodeCursor(page[limit - 1].Position) : null;
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(new Wire.TransitionRequestList(model.Name, items, next), Json.Options);
    }

    private static string EncodeCursor(long position) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes("p" + position.ToString(CultureInfo.InvariantCulture))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static long? DecodeCursor(string cursor)
    {
        if (cursor.Length > 40) return null;
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            return text.StartsWith('p') && long.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var position) && position > 0
                ? position
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
