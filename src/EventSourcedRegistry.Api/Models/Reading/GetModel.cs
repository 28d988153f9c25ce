using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Reading;

public static class GetModelEndpoint
{
    /// <summary>The model view, with its revision as ETag for If-Match on later commands; <c>asOf</c>/<c>atSequence</c> replay the past.</summary>
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}", OperationId = "GetModel")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store, PastModels pastModels,
        ModelViewAnswers answers)
    {
        await using var session = store.QuerySession();
        if (PointsInTime.Requested(http.Request))
        {
            var (past, problem) = await pastModels.Load(http, name, session);
            return problem ?? past!.Json(past.Model);
        }
        return await StoredModelView.WriteAsync(session, name, http, answers) ? Results.Empty : Problems.ModelNotFound(name);
    }
}
