using System.Security.Claims;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// A role, workspace-wide (no model) or for one model. API keys hold the model's id (a rename keeps the grant);
/// tokens name the model, as the identity provider writes it. <see cref="Workspace"/>: where the grant holds, null for
/// the key's own workspace; a platform key's grants each name one (see <see cref="ApiKeyRecord.GrantsIn"/>).
/// </summary>
public sealed record Grant(string Role, Guid? ModelId = null, string? ModelName = null, string? Workspace = null)
{
    public bool RegistryWide => ModelId is null && ModelName is null;
}

/// <summary>
/// The claims every authenticated principal carries, whichever scheme authenticated it. All are in the <c>esr:</c>
/// namespace, which only the server writes: a token's own claims there are dropped before these are added.
/// </summary>
public static class AccessClaims
{
    public const string Namespace = "esr:";
    /// <summary>What events record as their actor: <c>key:&lt;name&gt;</c> or <c>jwt:&lt;sub&gt;</c>.</summary>
    public const string Actor = "esr:actor";
    /// <summary><c>role</c> (registry-wide) or <c>role:model-name</c>.</summary>
    public const string Grant = "esr:grant";
    /// <summary><c>role:model-id</c>, for a key's grant on one model.</summary>
    public const string ModelGrant = "esr:model-grant";
    /// <summary>The API key's id (none for a token).</summary>
    public const string KeyId = "esr:key-id";
    /// <summary>The person or service behind the caller: a key's owner, a token's subject.</summary>
    public const string Owner = "esr:owner";
    /// <summary>One per owner who issued the caller's key, nearest first (none for a token).</summary>
    public const string KeyIssuer = "esr:key-issuer";
    /// <summary>
    /// One per workspace the caller is a member of (holds a grant in). The grant claims above are only those of the
    /// request's workspace, so no policy can see a grant of another workspace.
    /// </summary>
    public const string Workspace = "esr:workspace";

    /// <summary>Whether the caller is a member of <paramref name="workspace"/>.</summary>
    public static bool IsMemberOf(ClaimsPrincipal user, EventSourcedRegistry.Store.WorkspaceId workspace) =>
        user.HasClaim(Workspace, workspace.Slug);

    /// <summary>Whether the caller is a platform admin (a platform role: not a member of any workspace by it).</summary>
    public static bool IsPlatformAdmin(ClaimsPrincipal user) => user.HasClaim(Grant, Roles.PlatformAdmin);

    public static string? ActorOf(ClaimsPrincipal user) => user.FindFirst(Actor)?.Value;

    /// <summary>The caller as four eyes judges them (see <see cref="Principal"/>); null for an anonymous caller.</summary>
    public static Principal? PrincipalOf(ClaimsPrincipal user) =>
        ActorOf(user) is { } actor
            ? new Principal(actor, user.FindFirst(Owner)?.Value ?? Principal.OwnerOfActor(actor), user.FindFirst(KeyId)?.Value,
                user.FindAll(KeyIssuer).Select(c => c.Value).ToList())
            : null;

    /// <summary>Whether a claim type is in the server's own namespace (compared without regard to case, as claims are looked up).</summary>
    public static bool IsServerClaim(string type) => type.StartsWith(Namespace, StringComparison.OrdinalIgnoreCase);

    public static IReadOnlyList<Grant> GrantsOf(ClaimsPrincipal user)
    {
        var grants = new List<Grant>();
        foreach (var claim in user.FindAll(Grant))
        {
            if (ParseGrant(claim.Value) is { } grant) grants.Add(grant);
        }
        foreach (var claim in user.FindAll(ModelGrant))
        {
            var at = claim.Value.IndexOf(':');
            if (at > 0 && Guid.TryParse(claim.Value[(at + 1)..], out var id)) grants.Add(new Grant(claim.Value[..at], ModelId: id));
        }
        return grants;
    }

    /// <summary><c>reader</c> or <c>contributor:churn</c>; unknown roles and model-scoped admin/auditor grant nothing.</summary>
    public static Grant? ParseGrant(string value)
    {
        var at = value.IndexOf(':');
        var role = (at < 0 ? value : value[..at]).Trim().ToLowerInvariant();
        if (!Roles.All.Contains(role)) return null;
        if (at < 0) return new Grant(role);
        var model = value[(at + 1)..].Trim();
        return model.Length > 0 && Roles.ModelScoped.Contains(role) ? new Grant(role, ModelName: InputRules.NormalizeName(model)) : null;
    }

    /// <summary>
    /// A token's role: <c>reader</c>, <c>contributor:churn</c> (the default workspace's), or the same behind a workspace's
    /// slug and a slash, <c>team-a/reader</c>; null for what grants nothing (an unknown role or workspace slug).
    /// </summary>
    public static (EventSourcedRegistry.Store.WorkspaceId Workspace, Grant Grant)? ParseTokenRole(string value)
    {
        var slash = value.IndexOf('/');
        var colon = value.IndexOf(':');
        var workspace = EventSourcedRegistry.Store.WorkspaceId.Default;
        if (slash >= 0 && (colon < 0 || slash < colon))
        {
            if (!EventSourcedRegistry.Store.WorkspaceId.TryParse(value[..slash].Trim().ToLowerInvariant(), out var named)) return null;
            workspace = named;
            value = value[(slash + 1)..];
        }
        return ParseGrant(value) is { } grant ? (workspace, grant) : null;
    }

    public static IEnumerable<Claim> ClaimsFor(Grant grant) =>
        grant.ModelId is { } id ? [new Claim(ModelGrant, $"{grant.Role}:{id}")]
        : grant.ModelName is { } name ? [new Claim(Grant, $"{grant.Role}:{name}")]
        : [new Claim(Grant, grant.Role)];
}
