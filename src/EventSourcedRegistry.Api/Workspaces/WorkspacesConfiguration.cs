using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace EventSourcedRegistry.Api.Workspaces;

public static class WorkspacesConfiguration
{
    /// <summary>The directory and the policy of routes any authenticated caller may call (the workspace list).</summary>
    public static WebApplicationBuilder AddWorkspaces(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WorkspaceDirectory>();
        // The platform-admin policy is registered with the others (AccessConfiguration).
        builder.Services.Configure<AuthorizationOptions>(options => options.AddPolicy(Policies.Authenticated, p => p.RequireAuthenticatedUser()));
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
