using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// Rolling one model back to an instant: pick the instant, see the API's dry-run plan, confirm it with a reason (post,
/// redirect to the model page, where the rollback is in the timeline). The confirmation is bound to the plan shown: the
/// model and its revision then (<see cref="ConsoleRollback"/>). Every refusal is the API's, shown with its status.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class ModelRollbackModel(ConsoleRollback rollback) : PageModel
{
    [BindProperty(SupportsGet = true)] public string Name { get; set; } = "";
    [BindProperty(SupportsGet = true)] public string? AsOf { get; set; }

    public RollbackPlan? Plan { get; private set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGet()
    {
        if (await Refusal() is { } refused) return refused;
        if (!string.IsNullOrEmpty(AsOf)) await Load(AsOf);
        return Page();
    }

    public async Task<IActionResult> OnPost([FromForm] string? asOf, [FromForm] long? revision, [FromForm] Guid? modelId, [FromForm] string? reason)
    {
        if (await Refusal() is { } refused) return refused;
        AsOf = asOf;
        if (string.IsNullOrEmpty(asOf) || revision is null || modelId is null)
            return Refused(StatusCodes.Status400BadRequest, "The form names no plan to confirm: show the plan and confirm it from there.");
        var answer = await rollback.Confirm(HttpContext, Name, modelId.Value, asOf, revision.Value, reason);
        if (answer.Value is null)
        {
            // The refusal above the plan as it is now, so a changed model's new plan is what a second confirmation binds to.
            await Load(asOf);
            return Refused(answer.Status, ConsoleProblem.Describe(answer.Title, answer.Detail));
        }
        return LocalRedirect(ConsoleConfiguration.PathOf(HttpContext.Workspace(), "models/" + Uri.EscapeDataString(Name)));
    }

    /// <summary>
    /// A key the API would not let roll this model back: one that may not read it gets the answer of a model that does
    /// not exist (404, nothing of it on the page); one that may read it, 403 and no form. A model that does not exist: 404.
    /// </summary>
    private async Task<IActionResult?> Refusal()
    {
        switch (await rollback.Access(HttpContext, Name))
        {
            case RollbackAccess.Hidden:
                return NotFound();
            case RollbackAccess.Forbidden:
                Problem = $"This key may not roll back model '{Name}': rollback needs the contributor role for it.";
                Response.StatusCode = StatusCodes.Status403Forbidden;
                return Page();
            default:
                // A key that may roll back every model: an unknown name is a missing page too, as the model page answers it.
                return await HttpContext.RequestServices.GetRequiredService<ModelCommands>().ModelIdOf(HttpContext.Workspace(), Name,
                    HttpContext.RequestAborted) is null ? NotFound() : null;
        }
    }

    private async Task Load(string asOf)
    {
        var plan = await rollback.Plan(HttpContext, Name, asOf);
        Plan = plan.Value;
        if (plan.Value is null) Problem = ConsoleProblem.Describe(plan.Title, plan.Detail);
    }

    private IActionResult Refused(int status, string message)
    {
        Problem = message;
        Response.StatusCode = status;
        return Page();
    }

    /// <summary>Whether the page offers the confirmation: a plan that changes something and needs no approval.</summary>
    public bool MayConfirm => Plan is { Outcome: { Plan.Count: > 0, ApprovalRequired: false } } && !Forbidden;

    public bool Forbidden => Response.StatusCode == StatusCodes.Status403Forbidden;

    public string Workspace => HttpContext.Workspace().Slug;

    public string ModelLink => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "models/" + Uri.EscapeDataString(Name));

    /// <summary>One change of the plan in words (stage: from and to stage; alias: from and to version, or none).</summary>
    public static (string Subject, string From, string To) Describe(Wire.RollbackChange change) => change.Kind == EventSourcedRegistry.Models.RollbackPlanner.Alias
        ? ($"alias {change.Subject}", change.From is null ? "(none)" : "version " + change.From, change.To is null ? "(removed)" : "version " + change.To)
        : ($"version {change.Subject}", change.From ?? "", change.To ?? "");
}
