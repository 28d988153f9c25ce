using System.Security.Claims;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>
/// After authentication, before authorization: an authenticated caller who is not a member of the request's workspace
/// (no <see cref="Claim"/> for it), and a member of a workspace that does not exist, get exactly the answer of a route
/// that does not exist (404, the same body and headers, written by the status-code pages): a slug reveals nothing. An
/// archived workspace refuses every command (any method but GET, HEAD and OPTIONS) with 409, and keeps answering reads.
/// Anonymous callers pass on (authorization answers 401 whatever the workspace), as do the routes outside every
/// workspace: the directory's own, health and the OpenAPI document.
/// </summary>
public sealed class WorkspaceMembership(RequestDelegate next, WorkspaceDirectory directory)
{
    /// <summary>One per workspace the caller is a member of (written by authentication; the access slice's <c>AccessClaims.Workspace</c>).</summary>
    public const string Claim = "esr:workspace";

    public async Task InvokeAsync(HttpContext http)
    {
        if (OutsideWorkspaces(http) || http.User.Identity is not { IsAuthenticated: true })
        {
            await next(http);
            return;
        }

        var workspace = http.Workspace();
        var command = !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method));
        // Membership first, from the caller's claims alone: a non-member's answer costs the same whether the slug exists.
        // default always exists and is never archived: its commands cost no read of the directory.
        var entry = !IsMember(http.User, workspace) ? null
            : workspace == WorkspaceId.Default ? WorkspaceDirectory.DefaultEntry()
            : await directory.FindAsync(workspace, fresh: command, http.RequestAborted);
        if (entry is null)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (command && entry.Archived)
        {
            await Problems.Problem(StatusCodes.Status409Conflict, "Workspace archived",
                $"Workspace '{workspace}' is archived: it accepts no more changes, and its history stays readable.").ExecuteAsync(http);
            return;
        }
        await next(http);
    }

    public static bool IsMember(ClaimsPrincipal user, WorkspaceId workspace) =>
        user.FindAll(Claim).Any(c => string.Equals(c.Value, workspace.Slug, StringComparison.Ordinal));

    /// <summary>The workspaces the caller is a member of, by slug.</summary>
    public static IReadOnlySet<string> MembershipsOf(ClaimsPrincipal user) =>
        user.FindAll(Claim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>Unprefixed routes that belong to no workspace: the directory's, the platform's keys, health, the OpenAPI document and the console's own.</summary>
    public static bool OutsideWorkspaces(HttpContext http) =>
        http.Features.Get<IWorkspaceFeature>() is null &&
        (http.Request.Path.StartsWithSegments(WorkspaceAddressing.Prefix, StringComparison.OrdinalIgnoreCase) ||
         http.Request.Path.StartsWithSegments("/api/v1/platform", StringComparison.OrdinalIgnoreCase) ||
         http.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) ||
         http.Request.Path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase) ||
         // The console's own pages outside a workspace (sign-in, sign-out, /console itself, its stylesheet).
         WebConsole.ConsoleConfiguration.IsConsole(http.Request.Path));
}
