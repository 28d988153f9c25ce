using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// Downloads the audit log as CSV or NDJSON (<c>format</c>) with the audit page's filters (<c>from</c>, <c>to</c>,
/// <c>actor</c>, <c>model</c>, <c>type</c>): the API's streaming export of <c>GET /api/v1/audit</c>, run in process for the
/// signed-in key and written straight to this response as an attachment. A refusal (the audit policy's 403, a refused
/// filter, an upper bound not settled yet) is a page with the API's message and status, never part of a file.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class AuditExportModel(ConsoleReads reads) : PageModel
{
    public static readonly string[] FilterNames = ["from", "to", "actor", "model", "type"];

    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGet()
    {
        var format = Request.Query["format"].ToString();
        if (format is not ("csv" or "ndjson"))
            return Refused(StatusCodes.Status400BadRequest, "format is csv or ndjson.");
        var query = FilterNames.ToDictionary(f => f, f => Request.Query[f], StringComparer.Ordinal);
        query["format"] = format;
        var answer = await reads.ExportAudit(HttpContext, query);
        if (answer.Value is not { } export) return Refused(answer.Status, ConsoleProblem.Describe(answer.Title, answer.Detail));
        // A fixed ASCII file name: no user text (a model name, an actor) reaches the header.
        Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = $"audit-{HttpContext.Workspace().Slug}.{format}" }.ToString();
        return new Streamed(export);
    }

    private PageResult Refused(int status, string message)
    {
        Problem = message;
        Response.StatusCode = status;
        return Page();
    }

    public string AuditLink => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "audit");

    /// <summary>The download of the audit log with these filters (empty ones left out) in <paramref name="format"/>.</summary>
    public static string Link(WorkspaceId workspace, string format, IEnumerable<KeyValuePair<string, StringValues>> filters) =>
        ConsoleConfiguration.PathOf(workspace, "audit/export") + QueryString.Create(
            filters.Where(f => FilterNames.Contains(f.Key) && !StringValues.IsNullOrEmpty(f.Value)).Select(f => KeyValuePair.Create(f.Key, (string?)f.Value.ToString()))
                .Append(KeyValuePair.Create("format", (string?)format))).ToUriComponent();

    /// <summary>Runs the API's result on this response: Razor Pages execute action results, the endpoint returns an IResult.</summary>
    private sealed class Streamed(IResult result) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context) => result.ExecuteAsync(context.HttpContext);
    }
}
