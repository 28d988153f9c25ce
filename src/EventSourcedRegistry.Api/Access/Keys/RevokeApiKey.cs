using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Access.Keys;

public static class RevokeApiKeyEndpoint
{
    /// <summary>
    /// Revokes a key for good (revoking a revoked key answers it unchanged). This node refuses it at once; other nodes
    /// within the key cache's TTL (<c>Registry:Auth:ApiKeyCacheSeconds</c>, 30 s by default).
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [WolverineDelete("/api/v1/admin/keys/{id}", OperationId = "RevokeApiKey")]
    public static async Task<IResult> Delete(string id, HttpContext http, ApiKeys keys)
    {
        var revoked = await keys.Revoke(id, AccessClaims.ActorOf(http.User)!, http.RequestAborted);
        return revoked is null
            ? Problems.Problem(StatusCodes.Status404NotFound, "Key not found", $"No API key has the id '{id}'.")
            : Results.Json(ApiKeyResponse.From(revoked), Json.Options);
    }
}
