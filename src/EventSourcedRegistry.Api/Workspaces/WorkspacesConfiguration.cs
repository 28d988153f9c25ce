using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace EventSourcedRegistry.Api.Workspaces;

public static class WorkspacesConfiguration
{
    /// <summary>The directory, the platform-admin policy and (until the access slice lands) the pre-workspace claims.</summary>
    public static WebApplicationBuilder AddWorkspaces(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WorkspaceDirectory>();
        // Exactly the access slice's definition (issue 20): the role is a platform grant, held on every request.
        builder.Services.Configure<AuthorizationOptions>(options =>
        {
            options.AddPolicy(Policies.PlatformAdmin, p => p.RequireClaim(AccessClaims.Grant, Roles.PlatformAdmin));
            options.AddPolicy(Policies.Authenticated, p => p.RequireAuthenticatedUser());
        });
        builder.Services.AddSingleton<IClaimsTransformation, PreAccessClaims>();
        return builder;
    }

    /// <summary>
    /// The workspace prefix, then routing: routing must match the rewritten path, so it runs explicitly after the
    /// prefix middleware (left to the host, it runs first and every prefixed request is 404).
    /// </summary>
    public static WebApplication UseWorkspaceAddressing(this WebApplication app)
    {
        app.UseMiddleware<WorkspaceAddressing>();
        app.UseRouting();
        return app;
    }

    /// <summary>Between authentication and authorization (see <see cref="WorkspaceMembership"/>).</summary>
    public static IApplicationBuilder UseWorkspaceMembership(this IApplicationBuilder app) => app.UseMiddleware<WorkspaceMembership>();
}
