using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Workspaces;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>A workspace as the API shows it (the shared contract <see cref="Wire.WorkspaceInfo"/>); <c>createdAt</c> is null for a <c>default</c> whose creation is not recorded.</summary>
public static class WorkspaceResponse
{
    public static Wire.WorkspaceInfo From(WorkspaceView view) =>
        new(view.Id, view.DisplayName, view.CreatedAt == default ? null : view.CreatedAt, view.Archived, view.ArchivedAt, $"{WorkspaceAddressing.Prefix}/{view.Id}");
}

/// <summary>The rules the directory's routes share.</summary>
public static class WorkspaceRules
{
    public const int MaxDisplayNameLength = 100;

    public static bool IsPlatformAdmin(HttpContext http) => http.User.HasClaim(AccessClaims.Grant, Roles.PlatformAdmin);

    /// <summary>The platform admin sees every workspace; anyone else only those they are a member of.</summary>
    public static bool MaySee(HttpContext http, WorkspaceId workspace) =>
        IsPlatformAdmin(http) || WorkspaceMembership.IsMember(http.User, workspace);

    public static string? CheckSlug(string? slug) =>
        string.IsNullOrEmpty(slug) ? "A slug is required."
        : WorkspaceId.TryParse(slug, out _) ? null
        : "A slug is 2 to 39 characters: a lower-case letter first, then lower-case letters (a-z), digits and hyphens.";

    public static string? CheckDisplayName(string? displayName)
    {
        if (string.IsNullOrWhiteSpace(displayName)) return "A display name is required.";
        if (displayName.Length > MaxDisplayNameLength) return $"A display name has at most {MaxDisplayNameLength} characters; this one has {displayName.Length}.";
        if (displayName != displayName.Trim()) return "A display name neither starts nor ends with white space.";
        if (displayName.Any(char.IsControl)) return "A display name holds no control characters.";
        return null;
    }

    /// <summary>The one answer for a workspace that does not exist and for one the caller may not see.</summary>
    public static IResult NotFound(string slug) =>
        Problems.Problem(StatusCodes.Status404NotFound, "Workspace not found", $"No workspace '{slug}' exists.");

    public static IResult DefaultIsFixed() =>
        Problems.Problem(StatusCodes.Status409Conflict, "The default workspace is fixed",
            "'default' is the workspace unprefixed routes address: it is neither renamed nor archived.");

    public static IResult Archived(WorkspaceId workspace) =>
        Problems.Problem(StatusCodes.Status409Conflict, "Workspace archived",
            $"Workspace '{workspace}' is archived: it accepts no more changes, and its history stays readable.");
}
