using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Access.Keys;
using EventSourcedRegistry.Api.Admin;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// The admin pages (issue 15, Build 7) through the API's own admin endpoints, called in process as the signed-in key:
/// <c>GET/POST /api/v1/admin/keys</c>, <c>DELETE /api/v1/admin/keys/{id}</c>, <c>GET /api/v1/admin/projections</c> and
/// <c>POST /api/v1/admin/projections/rebuild</c>. Each call first asks the endpoints' own policy (<c>registry:admin</c>) of
/// the authorization service, and a caller it refuses gets the API's refusal (403, its words), never the endpoint's data.
/// What a key may grant, which key may be revoked and when a rebuild may start are the endpoints' decisions, not restated here.
/// </summary>
public sealed class ConsoleAdmin(IAuthorizationService authorization, IAuthorizationPolicyProvider policies)
{
    /// <summary>Whether the caller may call the admin endpoints in the page's workspace (for the pages and the header's link).</summary>
    public async Task<bool> MayAdminister(HttpContext http) =>
        (await authorization.AuthorizeAsync(http.User, null, Policies.Admin)).Succeeded;

    /// <summary>The API's 403 to a caller the admin policy refuses, in the API's words.</summary>
    public async Task<ConsoleAnswer<T>> Refusal<T>(HttpContext http) where T : class =>
        new(null, StatusCodes.Status403Forbidden, "Forbidden",
            ProblemAuthorizationResultHandler.Forbidden(http, (await policies.GetPolicyAsync(Policies.Admin))!));

    /// <summary><c>GET /api/v1/admin/keys</c>: the workspace's keys (revoked ones too) and the platform keys holding a grant in it.</summary>
    public Task<ConsoleAnswer<Wire.ApiKeyList>> Keys(HttpContext http) =>
        Call<Wire.ApiKeyList>(http, HttpMethods.Get, "/api/v1/admin/keys", new Dictionary<string, StringValues>(),
            sub => ListApiKeysEndpoint.Get(sub, sub.RequestServices.GetRequiredService<ApiKeys>()));

    /// <summary><c>POST /api/v1/admin/keys</c>: the new key with its secret, which exists only in this answer.</summary>
    public Task<ConsoleAnswer<Wire.CreatedApiKey>> CreateKey(HttpContext http, CreateApiKey request) =>
        Call<Wire.CreatedApiKey>(http, HttpMethods.Post, "/api/v1/admin/keys", new Dictionary<string, StringValues>(),
            sub => CreateApiKeyEndpoint.Post(request, sub, sub.RequestServices.GetRequiredService<ApiKeys>(),
                sub.RequestServices.GetRequiredService<WorkspaceStore>()));

    /// <summary><c>DELETE /api/v1/admin/keys/{id}?reason=</c>.</summary>
    public Task<ConsoleAnswer<Wire.ApiKeyInfo>> RevokeKey(HttpContext http, string id, string? reason) =>
        Call<Wire.ApiKeyInfo>(http, HttpMethods.Delete, $"/api/v1/admin/keys/{Uri.EscapeDataString(id)}",
            new Dictionary<string, StringValues> { ["reason"] = reason },
            sub => RevokeApiKeyEndpoint.Delete(id, sub, sub.RequestServices.GetRequiredService<ApiKeys>()));

    /// <summary><c>GET /api/v1/admin/projections</c>: each projection's position and lag, and this workspace's latest rebuild.</summary>
    public Task<ConsoleAnswer<ProjectionsStatus>> Projections(HttpContext http) =>
        Call<ProjectionsStatus>(http, HttpMethods.Get, "/api/v1/admin/projections", new Dictionary<string, StringValues>(),
            sub => GetProjectionsEndpoint.Get(sub, sub.RequestServices.GetRequiredService<ProjectionRebuilds>(),
                sub.RequestServices.GetRequiredService<WorkspaceStore>(), sub.RequestServices.GetRequiredService<NpgsqlDataSource>()));

    /// <summary><c>POST /api/v1/admin/projections/rebuild</c>: one projection, or every one when none is named.</summary>
    public Task<ConsoleAnswer<RebuildStatus>> Rebuild(HttpContext http, string? projection) =>
        Call<RebuildStatus>(http, HttpMethods.Post, "/api/v1/admin/projections/rebuild", new Dictionary<string, StringValues>(),
            sub => RebuildProjectionsEndpoint.Post(new RebuildProjections(projection), sub,
                sub.RequestServices.GetRequiredService<ProjectionRebuilds>()));

    private async Task<ConsoleAnswer<T>> Call<T>(HttpContext http, string method, string path, IDictionary<string, StringValues> query,
        Func<HttpContext, Task<IResult>> endpoint) where T : class
    {
        // A direct call skips the endpoint's [Authorize]: the same policy is asked here, for every call, reads included.
        if (!await MayAdminister(http)) return await Refusal<T>(http);
        var sub = ConsoleReads.SubRequest(http, path, query, null);
        sub.Request.Method = method;
        // The command's causation is the console request that carried it.
        sub.TraceIdentifier = http.TraceIdentifier;
        return await ConsoleReads.Answer<T>(http, sub, endpoint);
    }
}
