using System.Security.Claims;
using System.Text.Json;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// What a validated token's claims make of its caller in a workspace: the actor and owner from <c>NameClaim</c>, the
/// grants and memberships from <c>RoleClaim</c>. One implementation for the API's bearer tokens and the console's
/// OpenID Connect sessions (which keep a token's claims server-side and rebuild the principal per request), so a
/// console session holds exactly the grants the same token would get from the API.
/// </summary>
public sealed class TokenPrincipals(string roleClaim, string nameClaim)
{
    public string RoleClaim { get; } = roleClaim;
    public string NameClaim { get; } = nameClaim;

    public static TokenPrincipals From(IConfigurationSection jwt) =>
        new(jwt["RoleClaim"] is { Length: > 0 } r ? r : "roles", jwt["NameClaim"] is { Length: > 0 } n ? n : "sub");

    /// <summary>
    /// The caller of a token with these claims, for a request of <paramref name="workspace"/>; or why there is none.
    /// The token's own claims in the server's <c>esr:</c> namespace are dropped: only the server writes those.
    /// </summary>
    public (ClaimsPrincipal? Principal, string? Failure) Build(IEnumerable<Claim> tokenClaims, string? authenticationType,
        string nameType, string roleType, WorkspaceId workspace)
    {
        var identity = new ClaimsIdentity(tokenClaims.Where(c => !AccessClaims.IsServerClaim(c.Type)).Select(c => c.Clone()),
            authenticationType, nameType, roleType);
        if (identity.FindFirst(NameClaim)?.Value is not { Length: > 0 } name)
            return (null, $"The token carries no '{NameClaim}' claim to name its caller.");
        identity.AddClaim(new Claim(AccessClaims.Actor, Principal.TokenActorPrefix + name));
        // The token's subject is its owner: a person's API keys given the same owner count as the same person.
        identity.AddClaim(new Claim(AccessClaims.Owner, name));
        // Roles name their workspace (`team-a/reader`, `team-a/contributor:churn`); a role without one is the
        // default workspace's, as before workspaces. Only the request's workspace's roles become grants.
        var members = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in identity.FindAll(RoleClaim).SelectMany(c => RoleValues(c.Value)).ToList())
        {
            if (value.Trim().Equals(Roles.PlatformAdmin, StringComparison.OrdinalIgnoreCase))
            {
                if (!identity.HasClaim(AccessClaims.Grant, Roles.PlatformAdmin)) identity.AddClaim(new Claim(AccessClaims.Grant, Roles.PlatformAdmin));
                continue;
            }
            if (AccessClaims.ParseTokenRole(value) is not var (where, grant)) continue;
            members.Add(where.Slug);
            if (where == workspace) identity.AddClaims(AccessClaims.ClaimsFor(grant));
        }
        // A token that names no workspace is default's, as every token was before workspaces (one without any role
        // is refused by the role checks there, 403, not taken for a stranger to the registry).
        if (members.Count == 0) members.Add(WorkspaceId.Default.Slug);
        foreach (var member in members) identity.AddClaim(new Claim(AccessClaims.Workspace, member));
        return (new ClaimsPrincipal(identity), null);
    }

    /// <summary>A role claim holds one role, or (from some providers) a JSON array of them.</summary>
    private static IEnumerable<string> RoleValues(string value)
    {
        if (!value.TrimStart().StartsWith('[')) return [value];
        try { return JsonSerializer.Deserialize<string[]>(value) ?? []; }
        catch (JsonException) { return []; }
    }
}
