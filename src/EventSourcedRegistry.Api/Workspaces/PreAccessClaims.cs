using System.Security.Claims;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authentication;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>
/// Until keys belong to workspaces (the access slice of issue 20), every caller is what a key made before workspaces
/// is: a member of <c>default</c> only; and the bootstrap admin key is also the platform admin. This is exactly what
/// the access slice's authentication emits for such keys, so the routes behave the same before and after it lands;
/// it replaces this transformation then (delete this file and its registration in <see cref="WorkspacesConfiguration"/>).
/// </summary>
public sealed class PreAccessClaims : IClaimsTransformation
{
    public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        // Called at every authentication of the request: add once, and only where authentication said nothing of workspaces.
        if (principal.Identity is not { IsAuthenticated: true } || principal.HasClaim(c => c.Type == WorkspaceMembership.Claim))
            return Task.FromResult(principal);
        var identity = new ClaimsIdentity([new Claim(WorkspaceMembership.Claim, WorkspaceId.Default.Slug)]);
        if (AccessClaims.ActorOf(principal) == ApiKeys.ActorPrefix + BootstrapAdminKey.Name)
            identity.AddClaim(new Claim(AccessClaims.Grant, Roles.PlatformAdmin));
        var transformed = principal.Clone();
        transformed.AddIdentity(identity);
        return Task.FromResult(transformed);
    }
}
