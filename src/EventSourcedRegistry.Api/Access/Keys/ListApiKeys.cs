using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Access.Keys;

public static class ListApiKeysEndpoint
{
    /// <summary>
    /// Every key of the request's workspace, revoked ones included, without secrets or hashes, and the platform keys
    /// that hold a grant in it (with those grants only).
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.ApiKeyList>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/admin/keys", OperationId = "ListApiKeys")]
    public static async Task<IResult> Get(HttpContext http, ApiKeys keys)
    {
        var workspace = http.Workspace();
        var all = await keys.List(workspace, http.RequestAborted);
        return Results.Json(new Wire.ApiKeyList(all.Select(k => ApiKeyResponse.In(k, workspace)).ToList()), Json.Options);
    }
}
