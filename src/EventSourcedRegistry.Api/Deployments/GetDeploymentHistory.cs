using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Deployments;

public static class GetDeploymentHistoryEndpoint
{
    public const int DefaultLimit = 200;
    public const int MaxLimit = 1000;

    /// <summary>
    /// Every interval of every version in each stage, and every reported deployment, in the order they began;
    /// filter with <c>kind=stage|deployment</c>, <c>version</c>, <c>stage</c> or <c>environment</c>. <c>asOf</c>/<c>atSequence</c>:
    /// the intervals as they stood then (begun by then; one that ended later shows as still open), of the model the name
    /// named then.
    /// </summary>
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.DeploymentHistoryPage>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}/deployments", OperationId = "GetDeploymentHistory")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store, NpgsqlDataSource data, PastModels pastModels)
    {
        var query = http.Request.Query;
        var errors = new List<(string, string)>();
        var limit = Paging.Limit(query["limit"], DefaultLimit, MaxLimit, errors);
        long after = 0;
        if (query["cursor"].ToString() is { Length: > 0 } cursor && (!long.TryParse(cursor, out after) || after < 0))
            errors.Add(("cursor", "The cursor is the nextCursor of an earlier page."));
        var kind = query["kind"].ToString();
        if (kind.Length > 0 && kind is not (DeploymentHistory.Kinds.Stage or DeploymentHistory.Kinds.Deployment))
            errors.Add(("kind", "kind is \"stage\" or \"deployment\"."));
        int? version = null;
        if (query["version"].ToString() is { Length: > 0 } v)
        {
            if (ModelLookup.ParseVersion(v) is { } parsed) version = parsed;
            else errors.Add(("version", "version is a whole number from 1."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        await using var session = store.QuerySession();
        PastModel? past = null;
        ModelView? model;
        if (PointsInTime.Requested(http.Request))
        {
            (past, var problem) = await pastModels.Load(http, name, session);
            if (problem is not null) return problem;
            model = past!.Model;
        }
        else model = await session.FindModel(name, ct);
        if (model is null) return Problems.ModelNotFound(name);

        // Paged by the sequence each interval began at: one interval begins per event, so it is unique within the model,
        // and it is the workspace's own number (a row id would be drawn across workspaces and count the others' rows).
        var conditions = new List<string> { "model_id = $1", "entered_seq > $2" };
        var args = new List<object> { model.Id, after };
        string Next(object value) { args.Add(value); return "$" + args.Count; }
        if (kind.Length > 0) conditions.Add($"kind = {Next(kind)}");
        else conditions.Add($"kind in ({Next(DeploymentHistory.Kinds.Stage)}, {Next(DeploymentHistory.Kinds.Deployment)})");
        if (version is not null) conditions.Add($"version = {Next(version.Value)}");
        if (query["stage"].ToString() is { Length: > 0 } stage)
            conditions.Add($"kind = '{DeploymentHistory.Kinds.Stage}' and lower(subject) = lower({Next(stage)})");
        if (query["environment"].ToString() is { Length: > 0 } environment)
            conditions.Add($"kind = '{DeploymentHistory.Kinds.Deployment}' and subject = {Next(environment)}");
        if (past is not null) conditions.Add($"entered_seq <= {Next(past.Point.Sequence)}");

        var rows = await DeploymentHistoryQueries.Read(data, RegistryStore.Schema, http.Workspace(), string.Join(" and ", conditions), args,
            $"order by entered_seq, id limit {limit + 1}", ct);
        var items = rows.Take(limit).Select(ToInterval)
            .Select(i => past is not null && i.Left is { } left && left.Sequence > past.Point.Sequence ? i with { Left = null } : i).ToList();
        var next = rows.Count > limit ? rows[limit - 1].EnteredSeq.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        var page = new Wire.DeploymentHistoryPage(model.Name, items, next);
        return past is not null ? past.Json(page) : Results.Json(page, Json.Options);
    }

    public static Wire.DeploymentInterval ToInterval(Interval row) => new(
        row.Kind, row.Version ?? 0,
        row.Kind == DeploymentHistory.Kinds.Stage ? row.Subject : null,
        row.Kind == DeploymentHistory.Kinds.Deployment ? row.Subject : null,
        row.Target,
        new Wire.IntervalEnd(row.EnteredSeq, row.EnteredAt, row.EnteredBy, row.EnteredReason),
        row.LeftSeq is { } left ? new Wire.IntervalEnd(left, row.LeftAt!.Value, row.LeftBy, row.LeftReason) : null);
}
