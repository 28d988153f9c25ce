using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Approvals;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// The approvals inbox: the pending transition requests this key may decide, and a form per request to approve or reject
/// it with a reason (post, redirect, get). What the buttons offer and what a POST does are the API's approval endpoints'
/// (<see cref="ConsoleApprovals"/>); their refusal is shown on the page with its status.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class ApprovalsModel(ConsoleApprovals approvals) : PageModel
{
    /// <summary>After a decision (the redirect's query): what the server made of it.</summary>
    [BindProperty(SupportsGet = true)] public string? Outcome { get; set; }
    [BindProperty(SupportsGet = true)] public Guid? Decided { get; set; }

    public Inbox Inbox { get; private set; } = new([], false);
    public bool Approver { get; private set; }
    public string? Problem { get; private set; }

    public async Task OnGet() => await Load();

    public async Task<IActionResult> OnPost([FromForm] string? modelName, [FromForm] string? requestId, [FromForm] string? sha256,
        [FromForm] string? reason, [FromForm] string? decision)
    {
        var approve = decision == "approve";
        if (string.IsNullOrWhiteSpace(modelName) || string.IsNullOrWhiteSpace(requestId) || decision is not ("approve" or "reject"))
            return await Refused(StatusCodes.Status400BadRequest, "The form names no request or no decision.");
        // The console asks a reason of every decision, an approval too: the record says why someone let a version in.
        if (string.IsNullOrWhiteSpace(reason))
            return await Refused(StatusCodes.Status422UnprocessableEntity, "Give a reason for the decision: it is recorded with it.");
        var answer = await approvals.Decide(HttpContext, modelName, requestId, approve, sha256, reason);
        if (answer.Value is not { } request)
            return await Refused(answer.Status, ConsoleProblem.Describe(answer.Title, answer.Detail));
        var outcome = request.State switch
        {
            RequestStates.Approved => "approved",
            RequestStates.Rejected => "rejected",
            _ => "recorded",
        };
        return LocalRedirect(ConsoleConfiguration.PathOf(HttpContext.Workspace(), "approvals") + $"?outcome={outcome}&decided={request.Id}");
    }

    /// <summary>The refusal on the page, with its status, above the inbox as it is now.</summary>
    private async Task<IActionResult> Refused(int status, string message)
    {
        Outcome = null;
        Decided = null;
        Problem = message;
        await Load();
        Response.StatusCode = status;
        return Page();
    }

    private async Task Load()
    {
        Approver = ConsoleApprovals.MayApproveAnything(HttpContext);
        try
        {
            Inbox = await approvals.Read(HttpContext);
        }
        catch (InvalidWorkspacePolicyException ex)
        {
            Problem ??= ex.Message;
        }
    }

    /// <summary>What the redirect after a decision says (fixed words: the query carries no text to show).</summary>
    public string? Done => (Outcome, Decided) switch
    {
        ("approved", { } id) => $"Request {id} is approved: the transition is done.",
        ("recorded", { } id) => $"Your approval of request {id} is recorded; it needs more approvals before the transition is done.",
        ("rejected", { } id) => $"Request {id} is rejected.",
        _ => null,
    };

    public string Workspace => HttpContext.Workspace().Slug;

    public string ModelLink(string name) => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "models/" + Uri.EscapeDataString(name));

    public static string Move(Wire.TransitionRequestInfo r) =>
        r.Kind == TransitionKinds.Alias ? $"version {r.Version} as alias {r.Target}" : $"version {r.Version} to {r.Target}";
}
