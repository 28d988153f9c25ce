using System.Security.Claims;
using Alba;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A host for the workspace tests, on a database of its own (the partitions its tests create stay out of the shared
/// one). Until keys belong to workspaces (the access slice), a test names a caller's workspaces with the
/// <see cref="WorkspacesHeader"/> (comma-separated slugs): only this host reads it. Without it a caller is what the
/// product makes of a key today: a member of <c>default</c>, and the bootstrap key the platform admin.
/// </summary>
public sealed partial class AppFixture
{
    public const string WorkspacesHeader = "X-Test-Workspaces";

    private readonly SideHost _workspaces = new("esr_workspaces", "workspaces", builder => builder
        .UseSetting("Registry:Approvals:ProtectedStages", "")
        .UseSetting("Registry:Approvals:ProtectedAliases", "")
        .UseSetting("Registry:RateLimits:Enabled", "false")
        .ConfigureTestServices(services => services.AddSingleton<IClaimsTransformation, TestMemberships>()));

    public string WorkspacesConnectionString => _workspaces.ConnectionString;

    /// <summary>The workspaces host, its data reset: call it at the start of each of its tests.</summary>
    public Task<IAlbaHost> WorkspacesHost() => _workspaces.Use(this);

    private sealed class TestMemberships(IHttpContextAccessor accessor) : IClaimsTransformation
    {
        private readonly PreAccessClaims _product = new();

        public async Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
        {
            // What the product makes of the caller: a member of default; the bootstrap key also the platform admin.
            var product = await _product.TransformAsync(principal);
            if (accessor.HttpContext?.Request.Headers[WorkspacesHeader].ToString() is not { Length: > 0 } listed
                || principal.Identity is not { IsAuthenticated: true } || principal.HasClaim(c => c.Type == WorkspaceMembership.Claim))
                return product;

            // The listed workspaces instead of default; the product's platform-admin grant kept.
            var identity = new ClaimsIdentity(listed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(slug => new Claim(WorkspaceMembership.Claim, slug)));
            foreach (var grant in product.FindAll(EventSourcedRegistry.Api.Access.AccessClaims.Grant)
                         .Where(c => c.Value == EventSourcedRegistry.Api.Infrastructure.Roles.PlatformAdmin))
                identity.AddClaim(new Claim(grant.Type, grant.Value));
            var transformed = principal.Clone();
            transformed.AddIdentity(identity);
            return transformed;
        }
    }
}
