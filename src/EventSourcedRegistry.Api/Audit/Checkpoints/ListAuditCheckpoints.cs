using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using System.Globalization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Audit;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Audit.Checkpoints;

public static class ListAuditCheckpointsEndpoint
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>The request's workspace's signed checkpoints, newest first; keyset-paged by sequence.</summary>
    [Authorize(Policy = Policies.Audit)]
    [ProducesResponseType<Wire.CheckpointPage>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/audit/checkpoints", OperationId = "ListAuditCheckpoints")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceStore workspace)
    {
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(http.Request.Query["limit"], DefaultLimit, MaxLimit, errors);
        long? before = null;
        var cursor = http.Request.Query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            if (long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) before = value;
            else errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        await using var session = workspace.QuerySession();
        var query = session.Query<AuditCheckpoint>().AsQueryable();
        if (before is { } b) query = query.Where(x => x.Id < b);
        var page = await query.OrderByDescending(x => x.Id).Take(limit + 1).ToListAsync(http.RequestAborted);
        var items = page.Take(limit).Select(CheckpointResponse.From).ToList();
        var next = page.Count > limit ? items[^1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
        return Results.Json(new Wire.CheckpointPage(items, next), Json.Options);
    }
}
