using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Access.Keys;

/// <summary>
/// A key as the admin API shows it (the shared contract <see cref="Wire.ApiKeyInfo"/>): never its secret. <c>issuers</c> are the owners who could have seen its secret when
/// it was made (its creator's owner and, up the chain, theirs): none of them can approve what this key requests.
/// <c>workspace</c> is the key's own: a workspace's slug, or <c>~platform</c> for a key a platform admin made; a grant's
/// <c>workspace</c>: where a platform key's grant holds, absent for a grant in the key's own workspace.
/// </summary>
public static class ApiKeyResponse
{
    /// <summary>The key with every grant: what its own workspace's admin (or, for a platform key, a platform admin) sees.</summary>
    public static Wire.ApiKeyInfo From(ApiKeyRecord key) => Shown(key, key.Grants);

    /// <summary>
    /// The key as <paramref name="workspace"/>'s admin sees it: a platform key shows only its grants there, so nothing
    /// tells of the other workspaces it reaches.
    /// </summary>
    public static Wire.ApiKeyInfo In(ApiKeyRecord key, WorkspaceId workspace) =>
        key.Workspace == workspace.Slug ? From(key) : Shown(key, key.GrantsIn(workspace));

    private static Wire.ApiKeyInfo Shown(ApiKeyRecord key, IReadOnlyList<Grant> grants) => new(key.Id, key.Name, key.Owner, key.Issuers,
        grants.Select(g => new Wire.ApiKeyGrant(g.Role, g.ModelName, g.ModelId, g.Workspace)).ToList(),
        key.CreatedBy, key.CreatedAt, key.RevokedAt, key.RevokedBy, key.Workspace, key.Actor);
}

public static class CreateApiKeyEndpoint
{
    public const int MaxNameLength = 100;
    public const int MaxOwnerLength = 200;

    /// <summary>
    /// An owner names a person or service (an e-mail address, a user name, the subject their identity provider writes
    /// into their tokens): 1–200 characters, no control or invisible formatting characters, no surrounding spaces, and
    /// not <c>key:…</c>, the owner a key that belongs to nobody else has (the bootstrap key, keys from before owners).
    /// </summary>
    public static string? CheckOwner(string? owner)
    {
        if (string.IsNullOrWhiteSpace(owner))
            return "An owner is required: the person or service the key belongs to, e.g. \"alice@example.com\" or \"churn-training\". " +
                   "Four-eyes approval compares owners, not keys.";
        if (owner.Length > MaxOwnerLength) return $"An owner has at most {MaxOwnerLength} characters.";
        if (owner.Trim().Length != owner.Length) return "An owner has no leading or trailing spaces.";
        if (owner.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format
                or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator))
            return "An owner may not hold control or invisible formatting characters.";
        if (owner.StartsWith(EventSourcedRegistry.Access.Principal.KeyActorPrefix, StringComparison.OrdinalIgnoreCase))
            return "Owners starting with 'key:' are reserved for keys that are their own owner (the bootstrap key, keys from before owners).";
        return null;
    }

    public static IEnumerable<(string Field, string Error)> Check(CreateApiKey request)
    {
        if (string.IsNullOrWhiteSpace(request.Name)) yield return ("name", "A key name is required; events record the key's caller as key:<name>.");
        else if (request.Name.Length > MaxNameLength) yield return ("name", $"A key name has at most {MaxNameLength} characters.");
        else if (!request.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
            yield return ("name", "A key name may hold only ASCII letters, digits, '.', '_', '-' and '@'.");
        if (CheckOwner(request.Owner) is { } owner) yield return ("owner", owner);
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } reason) yield return ("reason", reason);
        if (request.Grants is not { Count: > 0 }) yield return ("grants", "At least one grant is required, e.g. [{\"role\": \"reader\"}].");
        for (var i = 0; i < (request.Grants?.Count ?? 0); i++)
        {
            var grant = request.Grants![i];
            var role = grant?.Role?.ToLowerInvariant();
            if (role is null || !Roles.All.Contains(role))
                yield return ($"grants[{i}].role", $"The role is one of {string.Join(", ", Roles.All)}.");
            else if (grant!.Model is not null && !Roles.ModelScoped.Contains(role))
                yield return ($"grants[{i}].model", $"{role} is granted registry-wide only; model grants are for {string.Join(", ", Roles.ModelScoped)}.");
            if (grant?.Model is not null && InputRules.CheckModelName(grant.Model) is { } bad) yield return ($"grants[{i}].model", bad);
        }
    }

    /// <summary>
    /// Creates a key of the request's workspace for an owner and answers it once; the registry keeps only its secret's
    /// SHA-256, and records <c>ApiKeyCreated</c> (never the secret or its hash) in that workspace in the same
    /// transaction. Its grants hold in this workspace only; keys for several workspaces are a platform admin's
    /// (<c>POST /api/v1/platform/keys</c>).
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.CreatedApiKey>(StatusCodes.Status201Created)]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePost("/api/v1/admin/keys", OperationId = "CreateApiKey")]
    public static async Task<IResult> Post(CreateApiKey? request, HttpContext http, ApiKeys keys, WorkspaceStore store)
    {
        if (request is null) return Problems.BodyRequired("{\"name\", \"owner\", \"grants\": [{\"role\", \"model\"?}], \"reason\"?}");
        var errors = Check(request).ToList();
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        var grants = new List<Grant>();
        var workspace = store.Workspace;
        await using (var session = store.QuerySession())
        {
            for (var i = 0; i < request.Grants!.Count; i++)
            {
                var grant = request.Grants[i]!;
                var role = grant.Role!.ToLowerInvariant();
                if (grant.Model is null)
                {
                    grants.Add(new Grant(role));
                    continue;
                }
                var model = await session.LoadAsync<ModelNameIndex>(InputRules.NormalizeName(grant.Model), ct);
                if (model is null) errors.Add(($"grants[{i}].model", Problems.NoSuchModel(grant.Model)));
                else grants.Add(new Grant(role, model.ModelId, grant.Model));
            }
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var created = await keys.Create(workspace, request.Name!, request.Owner!, grants.Distinct().ToList(), AccessClaims.PrincipalOf(http.User)!,
            CommandContext.For(http, request.Reason), ct);
        return Answer(http, created, $"A key named '{request.Name}'", $"{http.Request.PathBase}/api/v1/admin/keys");
    }

    /// <summary>201 with the key, shown this once, and its Location under <paramref name="collection"/>; 409 when the name is taken.</summary>
    public static IResult Answer(HttpContext http, (ApiKeyRecord Record, string Key)? created, string named, string collection)
    {
        if (created is not { } made)
            return Problems.Problem(StatusCodes.Status409Conflict, "Name taken",
                $"{named} exists (names stay taken after revocation, so history names one key).");

        var shown = ApiKeyResponse.From(made.Record);
        http.Response.Headers.Location = $"{collection}/{made.Record.Id}";
        return Results.Json(new Wire.CreatedApiKey(shown.Id, shown.Name, shown.Owner, shown.Issuers, made.Key, shown.Grants, shown.CreatedBy, shown.CreatedAt),
            Json.Options, statusCode: StatusCodes.Status201Created);
    }
}
