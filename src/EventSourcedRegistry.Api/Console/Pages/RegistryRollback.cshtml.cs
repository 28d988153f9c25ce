using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Rollback;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// Rolling the registry back to an instant (admins): the API's registry-wide dry run, then a confirmation with a reason
/// that rolls back exactly the models the plan showed, each bound to its id and revision then. The registry endpoint
/// takes no revision per model, so the confirmation applies the plan model by model through the model endpoint with
/// If-Match: the same per-model transaction the registry endpoint runs, and a model changed meanwhile is refused (412)
/// instead of rolled back by a plan nobody saw, while the others go ahead (as the registry endpoint's do).
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class RegistryRollbackModel(ConsoleRollback rollback) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? AsOf { get; set; }
    /// <summary>After a confirmation (the redirect's query): how many models were rolled back.</summary>
    [BindProperty(SupportsGet = true)] public int? Done { get; set; }

    public RegistryPlan? Plan { get; private set; }
    public string? Problem { get; private set; }
    /// <summary>After a confirmation some of whose models were refused: each model and what the server said.</summary>
    public IReadOnlyList<(string Model, bool RolledBack, string Message)> Results { get; private set; } = [];

    public async Task<IActionResult> OnGet()
    {
        if (await Refusal() is { } refused) return refused;
        if (!string.IsNullOrEmpty(AsOf)) await Load(AsOf);
        return Page();
    }

    public async Task<IActionResult> OnPost([FromForm] string? asOf, [FromForm] string[] model, [FromForm] Guid[] modelId, [FromForm] long[] revision,
        [FromForm] string? reason)
    {
        if (await Refusal() is { } refused) return refused;
        AsOf = asOf;
        Done = null;
        if (string.IsNullOrEmpty(asOf) || model.Length == 0 || model.Length != modelId.Length || model.Length != revision.Length)
            return Refused(StatusCodes.Status400BadRequest, "The form names no plan to confirm: show the plan and confirm it from there.");
        // The endpoint's own rule for the request (a reason, one point), once rather than refused per model.
        if (RollBackModelEndpoint.Check(new RollBackModel(asOf, null, reason, false)).ToList() is { Count: > 0 } errors)
            return Refused(StatusCodes.Status400BadRequest, string.Join(" ", errors.Select(e => e.Error)));

        var results = new List<(string, bool, string)>();
        var firstRefusal = 0;
        for (var i = 0; i < model.Length; i++)
        {
            var answer = await rollback.Confirm(HttpContext, model[i], modelId[i], asOf, revision[i], reason);
            if (answer.Value is not null)
            {
                results.Add((model[i], true, "rolled back"));
                continue;
            }
            if (firstRefusal == 0) firstRefusal = answer.Status;
            results.Add((model[i], false, ConsoleProblem.Describe(answer.Title, answer.Detail)));
        }
        if (firstRefusal == 0)
            return LocalRedirect(ConsoleConfiguration.PathOf(HttpContext.Workspace(), "rollback") + $"?done={results.Count}");
        Results = results;
        await Load(asOf);
        return Refused(firstRefusal, $"{results.Count(r => !r.Item2)} of {results.Count} models were not rolled back; the others were.");
    }

    /// <summary>A key without the workspace's admin role: 403 and no form, as the registry endpoint answers it.</summary>
    private async Task<IActionResult?> Refusal()
    {
        if (await rollback.MayRollBackRegistry(HttpContext)) return null;
        return Refused(StatusCodes.Status403Forbidden, "This key may not roll back the registry: that needs the admin role of the workspace.");
    }

    private async Task Load(string asOf)
    {
        var plan = await rollback.PlanRegistry(HttpContext, asOf);
        Plan = plan.Value;
        if (plan.Value is null) Problem ??= ConsoleProblem.Describe(plan.Title, plan.Detail);
    }

    private IActionResult Refused(int status, string message)
    {
        Problem = message;
        Response.StatusCode = status;
        return Page();
    }

    public bool Forbidden => Response.StatusCode == StatusCodes.Status403Forbidden;

    public IEnumerable<RegistryPlanItem> Confirmable => Plan?.Items.Where(i => i.ModelId is not null) ?? [];

    public string Workspace => HttpContext.Workspace().Slug;

    public string ModelLink(string name) => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "models/" + Uri.EscapeDataString(name));
}
