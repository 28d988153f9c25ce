using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Access.Keys;

/// <summary>
/// Keys of the platform, made by a platform admin: the one kind of key that may hold grants in several workspaces (an
/// auditor of two business units, a CD system deploying for many), and the only way to make another platform admin.
/// Their events are the platform's (<see cref="WorkspaceId.Platform"/>); their actor is <c>key:platform/&lt;name&gt;</c>.
/// </summary>
public static class PlatformKeysEndpoints
{
    public const string Route = "/api/v1/platform/keys";

    public static IEnumerable<(string Field, string Error)> Check(CreatePlatformKey request)
    {
        foreach (var error in CreateApiKeyEndpoint.Check(new CreateApiKey(request.Name, request.Owner, [new GrantRequest(Roles.Reader, null)], request.Reason)))
            yield return error;
        if (request.Grants is not { Count: > 0 })
            yield return ("grants", "At least one grant is required, e.g. [{\"role\": \"auditor\", \"workspace\": \"team-a\"}].");
        for (var i = 0; i < (request.Grants?.Count ?? 0); i++)
        {
            var grant = request.Grants![i];
            var role = grant?.Role?.ToLowerInvariant();
            if (role == Roles.PlatformAdmin)
            {
                if (grant!.Workspace is not null || grant.Model is not null)
                    yield return ($"grants[{i}]", "platform-admin is a platform role: it names no workspace and no model.");
                continue;
            }
            if (role is null || !Roles.All.Contains(role))
                yield return ($"grants[{i}].role", $"The role is one of {string.Join(", ", Roles.All)}, {Roles.PlatformAdmin}.");
            if (!WorkspaceId.TryParse(grant?.Workspace, out _))
                yield return ($"grants[{i}].workspace", "A platform key's grant names the workspace it holds in (its slug).");
            if (grant?.Model is not null && role is not null && Roles.All.Contains(role) && !Roles.ModelScoped.Contains(role))
                yield return ($"grants[{i}].model", $"{role} is granted workspace-wide only; model grants are for {string.Join(", ", Roles.ModelScoped)}.");
            if (grant?.Model is not null && InputRules.CheckModelName(grant.Model) is { } bad) yield return ($"grants[{i}].model", bad);
        }
    }

    [Authorize(Policy = Policies.PlatformAdmin)]
    [ProducesResponseType<Wire.CreatedApiKey>(StatusCodes.Status201Created)]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePost(Route, OperationId = "CreatePlatformKey")]
    public static async Task<IResult> Post(CreatePlatformKey? request, HttpContext http, ApiKeys keys, IDocumentStore store, NpgsqlDataSource data)
    {
        if (request is null)
            return Problems.BodyRequired("{\"name\", \"owner\", \"grants\": [{\"role\", \"workspace\", \"model\"?}], \"reason\"?}");
        var errors = Check(request).ToList();
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        var grants = new List<Grant>();
        for (var i = 0; i < request.Grants!.Count; i++)
        {
            var grant = request.Grants[i]!;
            var role = grant.Role!.ToLowerInvariant();
            if (role == Roles.PlatformAdmin)
            {
                grants.Add(new Grant(role));
                continue;
            }
            var workspace = WorkspaceId.Parse(grant.Workspace!);
            if (!await Exists(data, workspace, ct))
            {
                errors.Add(($"grants[{i}].workspace", $"No workspace '{workspace}' exists."));
                continue;
            }
            if (grant.Model is null)
            {
                grants.Add(new Grant(role, Workspace: workspace.Slug));
                continue;
            }
            await using var session = store.QuerySession(workspace.TenantId);
            var model = await session.LoadAsync<ModelNameIndex>(InputRules.NormalizeName(grant.Model), ct);
            if (model is null) errors.Add(($"grants[{i}].model", $"No model is registered under the name '{grant.Model}' in workspace '{workspace}'."));
            else grants.Add(new Grant(role, model.ModelId, grant.Model, workspace.Slug));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var created = await keys.Create(WorkspaceId.Platform, request.Name!, request.Owner!, grants.Distinct().ToList(),
            AccessClaims.PrincipalOf(http.User)!, CommandContext.For(http, request.Reason), ct);
        return CreateApiKeyEndpoint.Answer(http, created, $"A platform key named '{request.Name}'", Route);
    }

    /// <summary>Every platform key, revoked ones included, with every grant; never a secret or a hash.</summary>
    [Authorize(Policy = Policies.PlatformAdmin)]
    [ProducesResponseType<Wire.ApiKeyList>(StatusCodes.Status200OK)]
    [WolverineGet(Route, OperationId = "ListPlatformKeys")]
    public static async Task<IResult> Get(HttpContext http, ApiKeys keys)
    {
        var all = await keys.List(WorkspaceId.Platform, http.RequestAborted);
        return Results.Json(new Wire.ApiKeyList(all.Select(ApiKeyResponse.From).ToList()), Json.Options);
    }

    /// <summary>Revokes a platform key (<c>?reason=</c> goes into the platform's event); a workspace's key is not found here.</summary>
    [Authorize(Policy = Policies.PlatformAdmin)]
    [ProducesResponseType<Wire.ApiKeyInfo>(StatusCodes.Status200OK)]
    [WolverineDelete(Route + "/{id}", OperationId = "RevokePlatformKey")]
    public static async Task<IResult> Delete(string id, HttpContext http, ApiKeys keys)
    {
        var reason = http.Request.Query["reason"].ToString();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } bad) return Problems.Validation([("reason", bad)]);
        var revoked = id.Length > 100 ? null : await keys.Revoke(WorkspaceId.Platform, id, CommandContext.For(http, reason), http.RequestAborted);
        return revoked is null
            ? Problems.Problem(StatusCodes.Status404NotFound, "Key not found", "No platform key has that id.")
            : Results.Json(ApiKeyResponse.From(revoked), Json.Options);
    }

    /// <summary>
    /// Whether a workspace exists: Marten's own record of the tenants it made partitions for (a workspace is created by
    /// registering its tenant), so this needs nothing of the directory's view.
    /// </summary>
    private static async Task<bool> Exists(NpgsqlDataSource data, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            $"select exists (select 1 from {RegistryStore.Schema}.mt_tenant_partitions where partition_value = $1)");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return await command.ExecuteScalarAsync(ct) is true;
    }
}
