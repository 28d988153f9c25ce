using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Approvals;

public static class GetTransitionRequestEndpoint
{
    /// <summary>One transition request with its approvals, in any state.</summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.TransitionRequestInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}/requests/{id}", OperationId = "GetTransitionRequest")]
    public static async Task<IResult> Get(string name, string id, HttpContext http, WorkspaceStore store, ApprovalPolicy approvals, TimeProvider time)
    {
        if (!Guid.TryParse(id, out var requestId)) return Problems.Validation([("id", TransitionRequestLookup.BadId(id))]);
        await using var session = store.QuerySession();
        var model = await session.FindModel(name, http.RequestAborted);
        if (model is null) return Problems.ModelNotFound(name);
        var view = await session.LoadAsync<TransitionRequestsView>(model.Id, http.RequestAborted);
        var request = view?.Requests.Find(r => r.Id == requestId);
        if (request is null) return Problems.Problem(StatusCodes.Status404NotFound, "Not found", TransitionRequestLookup.NoSuchRequest(model.Name, requestId));
        var version = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, request.VersionNumber), http.RequestAborted);
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(TransitionRequestResponse.From(model.Name, request, approvals, time.GetUtcNow(), version?.Artifact), Json.Options);
    }
}
