using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Approvals;

public sealed record TransitionRequestList(string Model, IReadOnlyList<TransitionRequestResponse> Items);

public static class ListTransitionRequestsEndpoint
{
    /// <summary>The model's transition requests, newest first; <c>state</c> filters (pending, approved, rejected, superseded).</summary>
    [Authorize(Policy = Policies.Read)]
    [WolverineGet("/api/v1/models/{name}/requests", OperationId = "ListTransitionRequests")]
    public static async Task<IResult> Get(string name, HttpContext http, IDocumentStore store, ApprovalPolicy approvals, TimeProvider time)
    {
        var state = http.Request.Query["state"].ToString();
        if (state.Length > 0 && !RequestStates.All.Contains(state.ToLowerInvariant()))
            return Problems.Validation([("state", $"'{(state.Length > 40 ? state[..40] + "…" : state)}' is not a request state; the states are {string.Join(", ", RequestStates.All)}.")]);

        await using var session = store.QuerySession();
        var model = await session.FindModel(name, http.RequestAborted);
        if (model is null) return Problems.ModelNotFound(name);
        var view = await session.LoadAsync<TransitionRequestsView>(model.Id, http.RequestAborted);
        var now = time.GetUtcNow();
        var items = (view?.Requests ?? [])
            .Where(r => state.Length == 0 || r.State == state.ToLowerInvariant())
            .OrderByDescending(r => r.RequestedAt).ThenByDescending(r => r.Id)
            .Select(r => TransitionRequestResponse.From(model.Name, r, approvals, now))
            .ToList();
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(new TransitionRequestList(model.Name, items), Json.Options);
    }
}
