using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Validation;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Access.Keys;

public static class RevokeApiKeyEndpoint
{
    /// <summary>
    /// Revokes a key for good and records <c>ApiKeyRevoked</c> in the same transaction (revoking a revoked key answers
    /// it unchanged and records nothing). This node refuses it at once; other nodes within the key cache's TTL
    /// (<c>Registry:Auth:ApiKeyCacheSeconds</c>, 30 s by default). <c>?reason=</c> goes into the event.
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.ApiKeyInfo>(StatusCodes.Status200OK)]
    [WolverineDelete("/api/v1/admin/keys/{id}", OperationId = "RevokeApiKey")]
    public static async Task<IResult> Delete(string id, HttpContext http, ApiKeys keys)
    {
        var reason = http.Request.Query["reason"].ToString();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } bad) return Problems.Validation([("reason", bad)]);
        if (id.Length > 100) return Problems.Problem(StatusCodes.Status404NotFound, "Key not found", "No API key has that id.");
        // Only a key of this workspace: a platform key is revoked by a platform admin, another workspace's is unknown here.
        var revoked = await keys.Revoke(http.Workspace(), id, CommandContext.For(http, reason), http.RequestAborted);
        return revoked is null
            ? Problems.Problem(StatusCodes.Status404NotFound, "Key not found", $"No API key has the id '{id}'.")
            : Results.Json(ApiKeyResponse.From(revoked), Json.Options);
    }
}
