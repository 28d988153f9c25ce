using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.History;

public sealed record HistoryEntry(
    long Sequence,
    long Revision,
    string Type,
    DateTimeOffset Timestamp,
    string? Actor,
    string? Reason,
    string? CorrelationId,
    string? CausationId,
    object Data);

public sealed record HistoryPage(string Model, IReadOnlyList<HistoryEntry> Items, string? NextCursor);

public static class GetModelHistoryEndpoint
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>The model's own events, oldest first, with who, when and why; keyset-paged by revision.</summary>
    [Authorize(Policy = Policies.Read)]
    [WolverineGet("/api/v1/models/{name}/history", OperationId = "GetModelHistory")]
    public static async Task<IResult> Get(string name, HttpContext http, IDocumentStore store)
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
        var model = await session.FindModel(name, ct);
        if (model is null) return Problems.ModelNotFound(name);

        var events = await session.Events.FetchStreamAsync(model.Id, fromVersion: after + 1, token: ct);
        var items = events.Where(e => e.Version > after).OrderBy(e => e.Version).Take(limit).Select(e => new HistoryEntry(
            e.Sequence, e.Version, e.Data.GetType().Name, e.Timestamp, e.UserName,
            e.Headers is { } headers && headers.TryGetValue(CommandContextExtensions.ReasonHeader, out var reason) ? reason?.ToString() : null,
            e.CorrelationId, e.CausationId, e.Data)).ToList();
        var next = items.Count == limit && items[^1].Revision < model.Revision ? items[^1].Revision.ToString() : null;
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(new HistoryPage(model.Name, items, next), Json.Options);
    }
}
