using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.ModelVersions;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using EventSourcedRegistry.Api.TimeTravel;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Aliases;

public static class ResolveAliasEndpoint
{
    /// <summary>The version an alias names now (or at <c>asOf</c>/<c>atSequence</c>); <c>latest</c> and <c>v&lt;n&gt;</c> always resolve.</summary>
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.ModelVersionInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}/aliases/{alias}", OperationId = "ResolveAlias")]
    public static async Task<IResult> Get(string name, string alias, HttpContext http, WorkspaceStore store, PastModels pastModels)
    {
        await using var session = store.QuerySession();
        if (InputRules.CheckAlias(alias) is { } a) return Problems.Validation([("alias", a)]);
        if (PointsInTime.Requested(http.Request))
        {
            var (past, problem) = await pastModels.Load(http, name, session);
            if (problem is not null) return problem;
            if (ModelDecisions.ResolveAlias(past!.Model, alias) is { } then && await past.Version(then, http.RequestAborted) is { } thenView)
                return past.Json(ModelVersionResponse.From(past.Model.Name, thenView));
            return Problems.Problem(StatusCodes.Status404NotFound, "Alias not found",
                $"Model '{past.Model.Name}' had no alias '{InputRules.NormalizeAlias(alias)}' at sequence {past.Point.Sequence}.");
        }
        var ct = http.RequestAborted;
        var model = await session.FindModel(name, ct);
        if (model is null) return Problems.ModelNotFound(name);
        if (ModelDecisions.ResolveAlias(model, alias) is not { } version)
            return Problems.Problem(StatusCodes.Status404NotFound, "Alias not found",
                $"Model '{model.Name}' has no alias '{InputRules.NormalizeAlias(alias)}'.");
        var view = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, version), ct);
        if (view is null) return Problems.From(ModelDecisions.VersionNotFound(model, version).Rejection!);
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(ModelVersionResponse.From(model.Name, view), Json.Options);
    }
}
