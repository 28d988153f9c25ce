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

public static class GetModelVersionEndpoint
{
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.ModelVersionInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}/versions/{version}", OperationId = "GetModelVersion")]
    public static async Task<IResult> Get(string name, string version, HttpContext http, WorkspaceStore store, PastModels pastModels)
    {
        await using var session = store.QuerySession();
        if (ModelLookup.ParseVersion(version) is not { } number) return ModelLookup.BadVersion(version);
        if (PointsInTime.Requested(http.Request))
        {
            var (past, problem) = await pastModels.Load(http, name, session);
            if (problem is not null) return problem;
            return await past!.Version(number, http.RequestAborted) is { } then
                ? past.Json(ModelVersionResponse.From(past.Model.Name, then))
                : Problems.Problem(StatusCodes.Status404NotFound, "Not found",
                    $"Model '{past.Model.Name}' had no version {number} at sequence {past.Point.Sequence}.");
        }
        var ct = http.RequestAborted;
        if (await session.FindModelHead(name, ct) is not { } model) return Problems.ModelNotFound(name);
        var view = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct);
        if (view is null)
            return await session.FindModel(name, ct) is { } whole
                ? Problems.From(ModelDecisions.VersionNotFound(whole, number).Rejection!)
                : Problems.ModelNotFound(name);
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(ModelVersionResponse.From(model.Name, view), Json.Options);
    }
}
