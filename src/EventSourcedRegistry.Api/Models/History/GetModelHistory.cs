using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using System.Text.Json;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.History;

public static class GetModelHistoryEndpoint
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>
    /// The model's own events, oldest first, with who, when and why; keyset-paged by revision in the database (a page
    /// reads only its own events). <c>asOf</c>/<c>atSequence</c>: only the events up to that point, of the model the name
    /// named then.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.HistoryPage>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}/history", OperationId = "GetModelHistory")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store, PastModels pastModels)
    {
        await using var session = store.QuerySession();
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(http.Request.Query["limit"], DefaultLimit, MaxLimit, errors);
        long after = 0;
        var cursor = http.Request.Query["cursor"].ToString();
        if (cursor.Length > 0 && (!long.TryParse(cursor, out after) || after < 0))
            errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        if (PointsInTime.Requested(http.Request))
        {
            var (past, problem) = await pastModels.Load(http, name, session);
            if (problem is not null) return problem;
            return past!.Json(await Page(session, past.Model.Id, past.Model.Name, after, limit, past.Model.Revision, ct));
        }
        var model = await session.FindModel(name, ct);
        if (model is null) return Problems.ModelNotFound(name);
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(await Page(session, model.Id, model.Name, after, limit, model.Revision, ct), Json.Options);
    }

    /// <summary>The events after revision <paramref name="after"/>, at most <paramref name="limit"/>, none past <paramref name="last"/>.</summary>
    private static async Task<Wire.HistoryPage> Page(IQuerySession session, Guid modelId, string name, long after, int limit, long last,
        CancellationToken ct)
    {
        if (after >= last) return new Wire.HistoryPage(name, [], null);
        var events = await session.Events.FetchStreamAsync(modelId, version: Math.Min(after + limit, last), fromVersion: after + 1, token: ct);
        var items = events.OrderBy(e => e.Version).Select(e => new Wire.HistoryEntry(
            e.Sequence, e.Version, e.Data.GetType().Name, e.Timestamp, e.UserName,
            e.Headers is { } headers && headers.TryGetValue(CommandContextExtensions.ReasonHeader, out var reason) ? reason?.ToString() : null,
            // The contract carries the event as JSON: written with the API's options, as serializing the event itself wrote it.
            e.CorrelationId, e.CausationId, JsonSerializer.SerializeToElement(e.Data, e.Data.GetType(), Json.Options))).ToList();
        var next = items.Count == limit && items[^1].Revision < last ? items[^1].Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return new Wire.HistoryPage(name, items, next);
    }
}
