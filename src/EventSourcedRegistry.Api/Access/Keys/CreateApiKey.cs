using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Access.Keys;

public sealed record GrantRequest(string? Role, string? Model);

public sealed record CreateApiKey(string? Name, List<GrantRequest?>? Grants);

public sealed record GrantResponse(string Role, string? Model, Guid? ModelId);

/// <summary>A key as the admin API shows it: never its secret.</summary>
public sealed record ApiKeyResponse(string Id, string Name, IReadOnlyList<GrantResponse> Grants, string CreatedBy,
    DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? RevokedBy)
{
    public static ApiKeyResponse From(ApiKeyRecord key) => new(key.Id, key.Name,
        key.Grants.Select(g => new GrantResponse(g.Role, g.ModelName, g.ModelId)).ToList(),
        key.CreatedBy, key.CreatedAt, key.RevokedAt, key.RevokedBy);
}

/// <summary>The one answer that carries the key itself; the registry cannot show it again.</summary>
public sealed record CreatedApiKey(string Id, string Name, string Key, IReadOnlyList<GrantResponse> Grants, string CreatedBy, DateTimeOffset CreatedAt);

public static class CreateApiKeyEndpoint
{
    public const int MaxNameLength = 100;

    public static IEnumerable<(string Field, string Error)> Check(CreateApiKey request)
    {
        if (string.IsNullOrWhiteSpace(request.Name)) yield return ("name", "A key name is required; events record the key's caller as key:<name>.");
        else if (request.Name.Length > MaxNameLength) yield return ("name", $"A key name has at most {MaxNameLength} characters.");
        else if (!request.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
            yield return ("name", "A key name may hold only ASCII letters, digits, '.', '_', '-' and '@'.");
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

    /// <summary>Creates a key and answers it once; the registry keeps only its secret's SHA-256.</summary>
    [Authorize(Policy = Policies.Admin)]
    [WolverinePost("/api/v1/admin/keys", OperationId = "CreateApiKey")]
    public static async Task<IResult> Post(CreateApiKey? request, HttpContext http, ApiKeys keys, IDocumentStore store)
    {
        if (request is null) return Problems.BodyRequired("{\"name\", \"grants\": [{\"role\", \"model\"?}]}");
        var errors = Check(request).ToList();
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        var grants = new List<Grant>();
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

        var actor = AccessClaims.ActorOf(http.User)!;
        var created = await keys.Create(request.Name!, grants.Distinct().ToList(), actor, ct);
        if (created is not { } made)
            return Problems.Problem(StatusCodes.Status409Conflict, "Name taken",
                $"A key named '{request.Name}' exists (names stay taken after revocation, so history names one key).");

        var shown = ApiKeyResponse.From(made.Record);
        http.Response.Headers.Location = $"/api/v1/admin/keys/{made.Record.Id}";
        return Results.Json(new CreatedApiKey(shown.Id, shown.Name, made.Key, shown.Grants, shown.CreatedBy, shown.CreatedAt),
            Json.Options, statusCode: StatusCodes.Status201Created);
    }
}
