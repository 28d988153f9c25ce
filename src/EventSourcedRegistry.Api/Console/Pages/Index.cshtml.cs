using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary><c>/console</c>: the caller's default workspace's registry (default when a member, else its first by slug).</summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class IndexModel : PageModel
{
    public IActionResult OnGet()
    {
        var memberships = WorkspaceMembership.MembershipsOf(User);
        var slug = memberships.Contains(WorkspaceId.Default.Slug) ? WorkspaceId.Default.Slug : memberships.Order(StringComparer.Ordinal).FirstOrDefault();
        return slug is null || !WorkspaceId.TryParse(slug, out var workspace) ? Page() : LocalRedirect(ConsoleConfiguration.PathOf(workspace, "registry"));
    }
}
