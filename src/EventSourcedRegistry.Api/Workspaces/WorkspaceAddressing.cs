using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>
/// <c>/api/v1/workspaces/{ws}/&lt;rest&gt;</c> is <c>/api/v1/&lt;rest&gt;</c> in workspace <c>ws</c>: this middleware,
/// in front of routing, sets the request's <see cref="IWorkspaceFeature"/>, moves the prefix into <c>PathBase</c> and
/// rewrites the path, so every endpoint stays declared once. Unprefixed paths are <c>default</c>'s. The directory's own
/// routes (<c>/api/v1/workspaces/{ws}</c>, <c>…/rename</c>, <c>…/archive</c>) are not rewritten. Nothing is looked up
/// here: whether the caller may see the workspace, and whether it exists, is <see cref="WorkspaceMembership"/>'s
/// decision after authentication. A Location header the endpoint writes (always unprefixed) leaves with the prefix.
/// </summary>
public sealed class WorkspaceAddressing(RequestDelegate next)
{
    public const string Prefix = "/api/v1/workspaces";

    /// <summary>What follows <c>/api/v1/workspaces/{ws}</c> on the directory's own routes (never a workspace's route).</summary>
    public static readonly IReadOnlySet<string> DirectoryActions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "/rename", "/archive" };

    public Task InvokeAsync(HttpContext http)
    {
        if (!TryStrip(http.Request.Path, out var workspace, out var prefix, out var rest))
        {
            // MLflow's web UI mount is the same endpoints (see Mlflow.MlflowRoutes).
            if (Mlflow.MlflowRoutes.Canonical(http.Request.Path.Value ?? "") is { } mlflow) http.Request.Path = mlflow;
            return next(http);
        }

        http.Features.Set<IWorkspaceFeature>(new WorkspaceFeature(workspace));
        http.Request.PathBase = http.Request.PathBase.Add(prefix);
        // An MLflow tracking URI of /api/v1/workspaces/{ws}: the client appends /api/2.0/mlflow/… to it.
        http.Request.Path = Mlflow.MlflowRoutes.Canonical(rest) ?? "/api/v1" + rest;
        http.Response.OnStarting(() =>
        {
            if (http.Response.Headers.Location.ToString() is { Length: > 0 } location) http.Response.Headers.Location = Link(workspace, location);
            return Task.CompletedTask;
        });
        return next(http);
    }

    /// <summary>
    /// Splits <c>/api/v1/workspaces/{slug}/rest</c> into the workspace, its prefix as sent and <c>/rest</c>. False for
    /// any other path, the directory's own routes, and a segment that is no slug (such a path matches no route: 404).
    /// </summary>
    public static bool TryStrip(PathString path, out WorkspaceId workspace, out PathString prefix, out string rest)
    {
        workspace = WorkspaceId.Default;
        prefix = default;
        rest = "";
        if (!path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase, out var matched, out var remaining)) return false;
        var tail = remaining.Value;
        if (tail is not { Length: > 1 }) return false;
        var slash = tail.IndexOf('/', 1);
        if (slash < 0) return false;
        var slug = tail[1..slash];
        rest = tail[slash..];
        if (rest == "/" || DirectoryActions.Contains(rest) || !WorkspaceId.TryParse(slug, out var parsed)) return false;
        workspace = parsed;
        prefix = matched.Add("/" + slug);
        return true;
    }

    /// <summary>An unprefixed link of the API (<c>/api/v1/…</c>) as the workspace's own; anything else as it is.</summary>
    public static string Link(WorkspaceId workspace, string link) =>
        link.StartsWith("/api/v1/", StringComparison.Ordinal) && !link.StartsWith(Prefix + "/", StringComparison.Ordinal)
            ? $"{Prefix}/{workspace.Slug}{link["/api/v1".Length..]}"
            : link;

    /// <summary>A link of the API as the request addressed it: prefixed when the request was.</summary>
    public static string Link(HttpContext? http, string link) =>
        http?.Features.Get<IWorkspaceFeature>() is { } feature ? Link(feature.Workspace, link) : link;
}
