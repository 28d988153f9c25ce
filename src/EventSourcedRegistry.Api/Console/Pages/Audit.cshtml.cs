using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// The audit log of a workspace, queried by time range, actor, model and event type through <c>GET /api/v1/audit</c>
/// (its filters, paging, settle rule and refusals), with links that download the same filtered log as CSV or NDJSON
/// (<see cref="AuditExportModel"/>). Only a caller the API's audit policy admits sees any of it.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class AuditModel(ConsoleReads reads) : PageModel
{
    public const int PageSize = 100;

    [BindProperty(SupportsGet = true)] public string? From { get; set; }
    [BindProperty(SupportsGet = true)] public string? To { get; set; }
    [BindProperty(SupportsGet = true)] public string? Actor { get; set; }
    [BindProperty(SupportsGet = true, Name = "model")] public string? ModelName { get; set; }
    [BindProperty(SupportsGet = true)] public string? Type { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Wire.AuditPage? Log { get; private set; }
    public string? Problem { get; private set; }
    /// <summary>The audit policy refused the caller: the page shows the refusal and nothing else (no form, no link).</summary>
    public bool Refused { get; private set; }

    /// <summary>The event types the API's <c>type</c> filter knows, for the form's list.</summary>
    public static IReadOnlyList<string> EventTypes { get; } = RegistryStore.EventTypes.Select(t => t.Name).Order(StringComparer.Ordinal).ToList();

    public async Task OnGet()
    {
        var answer = await reads.Audit(HttpContext, new Dictionary<string, StringValues>(Filters()) { ["cursor"] = Cursor, ["limit"] = PageSize.ToString() });
        if (answer.Value is { } log)
        {
            Log = log;
            return;
        }
        Problem = ConsoleProblem.Describe(answer.Title, answer.Detail);
        // A caller the audit policy refuses gets the API's status too; a refused filter is a message on a working page.
        if (answer.Status is not StatusCodes.Status403Forbidden) return;
        Refused = true;
        Response.StatusCode = answer.Status;
    }

    /// <summary>The page's filters in the API's names (the export takes the same).</summary>
    public Dictionary<string, StringValues> Filters() => new()
    {
        ["from"] = From,
        ["to"] = To,
        ["actor"] = Actor,
        ["model"] = ModelName,
        ["type"] = Type,
    };

    public string Workspace => HttpContext.Workspace().Slug;

    /// <summary>The same filters downloaded whole, as CSV or NDJSON.</summary>
    public string ExportLink(string format) => AuditExportModel.Link(HttpContext.Workspace(), format, Filters());

    public string NextPageLink() => QueryString.Create(Filters().Append(new("cursor", Log?.NextCursor))
        .Where(p => !StringValues.IsNullOrEmpty(p.Value)).Select(p => KeyValuePair.Create(p.Key, (string?)p.Value.ToString()))).ToUriComponent();

    public string ModelLink(string name) => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "models/" + Uri.EscapeDataString(name));

    public string ChainLink => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "audit/chain");
}
