using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Access.Keys;

public sealed record ApiKeyList(IReadOnlyList<ApiKeyResponse> Items);

public static class ListApiKeysEndpoint
{
    /// <summary>Every key, revoked ones included, without secrets or hashes.</summary>
    [Authorize(Policy = Policies.Admin)]
    [WolverineGet("/api/v1/admin/keys", OperationId = "ListApiKeys")]
    public static async Task<IResult> Get(HttpContext http, ApiKeys keys)
    {
        var all = await keys.List(http.RequestAborted);
        return Results.Json(new ApiKeyList(all.Select(ApiKeyResponse.From).ToList()), Json.Options);
    }
}
