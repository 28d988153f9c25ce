using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>One grant row of the create form: a role, and the model it is limited to when one is named.</summary>
public sealed class GrantField
{
    public string? Role { get; set; }
    public string? Model { get; set; }
}

/// <summary>
/// The workspace's API keys: the list, a form that creates one (its secret shown in the answer to that POST only: never
/// in a URL, a redirect or a later page), and revocation after a confirmation step. Everything goes through the API's key
/// endpoints as the signed-in key (<see cref="ConsoleAdmin"/>): a caller the API refuses gets its refusal and no key name.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class AdminKeysModel(ConsoleAdmin admin) : PageModel
{
    /// <summary>Grant rows the create form offers (a key with more grants is made through the API).</summary>
    public const int GrantRows = 3;

    /// <summary>A key to revoke, named by the list's link: the page asks for confirmation and a reason first.</summary>
    [BindProperty(SupportsGet = true)] public string? Revoke { get; set; }
    /// <summary>After a revocation (the redirect's query): the key's id.</summary>
    [BindProperty(SupportsGet = true)] public string? Revoked { get; set; }

    [BindProperty] public string? KeyName { get; set; }
    [BindProperty] public string? Owner { get; set; }
    [BindProperty] public string? Reason { get; set; }
    [BindProperty] public List<GrantField> Grants { get; set; } = [];

    public bool Allowed { get; private set; }
    public IReadOnlyList<Wire.ApiKeyInfo> Keys { get; private set; } = [];
    /// <summary>The key just made, with its secret: set only while answering the POST that made it.</summary>
    public Wire.CreatedApiKey? Created { get; private set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGet() => await Load();

    public async Task<IActionResult> OnPostCreate()
    {
        var grants = Grants.Take(GrantRows).Where(g => !string.IsNullOrWhiteSpace(g.Role))
            .Select(g => (GrantRequest?)new GrantRequest(g.Role, string.IsNullOrWhiteSpace(g.Model) ? null : g.Model.Trim())).ToList();
        // The API decides every rule (who may create, which roles and models, the name and owner rules) and says why not.
        var answer = await admin.CreateKey(HttpContext, new CreateApiKey(KeyName, Owner, grants, string.IsNullOrWhiteSpace(Reason) ? null : Reason));
        if (answer.Value is null) return await Refused(answer.Status, ConsoleProblem.Describe(answer.Title, answer.Detail));
        Created = answer.Value;
        KeyName = Owner = Reason = null;
        Grants = [];
        // The secret is in this answer and nowhere else: no redirect (it would need the secret in its URL or a store).
        return await Load();
    }

    public async Task<IActionResult> OnPostRevoke([FromForm] string? id)
    {
        if (string.IsNullOrWhiteSpace(id)) return await Refused(StatusCodes.Status400BadRequest, "The form names no key.");
        var answer = await admin.RevokeKey(HttpContext, id, Reason);
        if (answer.Value is null) return await Refused(answer.Status, ConsoleProblem.Describe(answer.Title, answer.Detail));
        return LocalRedirect(ConsoleConfiguration.PathOf(HttpContext.Workspace(), "admin/keys") + QueryString.Create("revoked", answer.Value.Id));
    }

    private async Task<IActionResult> Refused(int status, string message)
    {
        Problem = message;
        Revoke = null;
        var page = await Load();
        Response.StatusCode = status;
        return page;
    }

    private async Task<IActionResult> Load()
    {
        var keys = await admin.Keys(HttpContext);
        if (keys.Value is null)
        {
            // The API's refusal, and nothing of the workspace's keys.
            Problem = ConsoleProblem.Describe(keys.Title, keys.Detail);
            Revoke = Revoked = null;
            Response.StatusCode = keys.Status;
            return Page();
        }
        Allowed = true;
        Keys = keys.Value.Items.OrderBy(k => k.RevokedAt is not null).ThenByDescending(k => k.CreatedAt).ToList();
        return Page();
    }

    public string Workspace => HttpContext.Workspace().Slug;

    public string Action(string handler) => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "admin/keys") + QueryString.Create("handler", handler);

    /// <summary>The key the confirmation step names: one of this workspace's own active keys (a platform key is revoked by a platform admin).</summary>
    public Wire.ApiKeyInfo? ToRevoke => Revoke is null ? null : Keys.FirstOrDefault(k => k.Id == Revoke && Revocable(k));

    public Wire.ApiKeyInfo? JustRevoked => Revoked is null ? null : Keys.FirstOrDefault(k => k.Id == Revoked && k.RevokedAt is not null);

    public bool Revocable(Wire.ApiKeyInfo key) => key.RevokedAt is null && key.Workspace == Workspace;

    public string RevokeLink(Wire.ApiKeyInfo key) => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "admin/keys") + QueryString.Create("revoke", key.Id);

    public static string Grant(Wire.ApiKeyGrant grant) => grant.Model is null ? grant.Role : $"{grant.Role} of {grant.Model}";

    public GrantField Row(int i) => i < Grants.Count ? Grants[i] : new GrantField { Role = i == 0 ? "reader" : null };
}
