using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Api.TimeTravel;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.ModelVersions.Reading;

public static class ListModelVersionsEndpoint
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>Versions in ascending order, optionally of one stage; keyset-paged by version number.</summary>
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.ModelVersionPage>(StatusCodes.Status200OK)]
    [ReadsPointInTime]
    [WolverineGet("/api/v1/models/{name}/versions", OperationId = "ListModelVersions")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store,
        Lifecycle.Lifecycle lifecycle, PastModels pastModels)
    {
        var query = http.Request.Query;
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors);
        var after = 0;
        var cursor = query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            if (ModelLookup.ParseVersion(cursor) is { } last) after = last;
            else errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        }
        string? stage = null;
        if (query["stage"].ToString() is { Length: > 0 } s && (stage = lifecycle.Resolve(s)) is null)
            errors.Add(("stage", $"'{s}' is not a stage. The stages are: {string.Join(", ", lifecycle.Stages)}."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        await using var session = store.QuerySession();
        if (PointsInTime.Requested(http.Request))
        {
            var (past, problem) = await pastModels.Load(http, name, session);
            if (problem is not null) return problem;
            // The page's version numbers from the model view then; only their own events are read.
            // Deleted versions are left out before the page is cut, so a page is never short while more follow.
            var numbers = stage is null
                ? Enumerable.Range(after + 1, Math.Max(0, past!.Model.LatestVersion - after)).Where(past.Model.HasVersion)
                : past!.Model.VersionsByStage.GetValueOrDefault(stage, []).Above(after);
            var then = (await past.Versions(numbers.Take(limit + 1), ct)).Values.ToList();
            var pastItems = then.Take(limit).Select(v => ModelVersionResponse.From(past.Model.Name, v)).ToList();
            return past.Json(new Wire.ModelVersionPage(pastItems,
                then.Count > limit ? pastItems[^1].Version.ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
        }

        var model = await session.FindModel(name, ct);
        if (model is null) return Problems.ModelNotFound(name);

        var versions = session.Query<ModelVersionView>().Where(v => v.ModelId == model.Id && v.VersionNumber > after);
        if (stage is not null) versions = versions.Where(v => v.Stage == stage);
        var page = await versions.OrderBy(v => v.VersionNumber).Take(limit + 1).ToListAsync(ct);

        var items = page.Take(limit).Select(v => ModelVersionResponse.From(model.Name, v)).ToList();
        var next = page.Count > limit ? items[^1].Version.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(new Wire.ModelVersionPage(items, next), Json.Options);
    }
}
