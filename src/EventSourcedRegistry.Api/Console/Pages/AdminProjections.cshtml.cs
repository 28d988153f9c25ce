using EventSourcedRegistry.Api.Admin;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// The workspace's projections: each one's position and lag behind the high-water mark, the workspace's latest rebuild
/// with its progress, and a form that starts one (post, redirect, get; the page read again shows how far it got). Through
/// the API's projection endpoints as the signed-in key (<see cref="ConsoleAdmin"/>): whether a rebuild may start (one at a
/// time) is theirs.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class AdminProjectionsModel(ConsoleAdmin admin) : PageModel
{
    /// <summary>After starting a rebuild (the redirect's query): its id.</summary>
    [BindProperty(SupportsGet = true)] public Guid? Started { get; set; }

    public bool Allowed { get; private set; }
    public ProjectionsStatus? Status { get; private set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGet() => await Load();

    public async Task<IActionResult> OnPost([FromForm] string? projection)
    {
        var answer = await admin.Rebuild(HttpContext, string.IsNullOrEmpty(projection) ? null : projection);
        if (answer.Value is null)
        {
            Problem = ConsoleProblem.Describe(answer.Title, answer.Detail);
            Started = null;
            var page = await Load();
            Response.StatusCode = answer.Status;
            return page;
        }
        return LocalRedirect(ConsoleConfiguration.PathOf(HttpContext.Workspace(), "admin/projections") + QueryString.Create("started", answer.Value.Id.ToString()));
    }

    private async Task<IActionResult> Load()
    {
        var status = await admin.Projections(HttpContext);
        if (status.Value is null)
        {
            // The API's refusal (or its other answer), and nothing of the workspace's projections.
            Problem ??= ConsoleProblem.Describe(status.Title, status.Detail);
            Started = null;
            Response.StatusCode = status.Status;
            return Page();
        }
        Allowed = true;
        Status = status.Value;
        return Page();
    }

    public string Workspace => HttpContext.Workspace().Slug;

    public string Here => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "admin/projections");

    public static string Percent(RebuildStatus rebuild) =>
        rebuild.EventsTotal <= 0 ? "" : $" ({Math.Min(100, rebuild.EventsProcessed * 100 / rebuild.EventsTotal)}%)";
}
