using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// One model, now or as of an instant: its versions (stage, aliases, artifact digest and whether the registry verified
/// it) and the timeline of its events (who, when, why, correlation id), read through the API's model endpoints.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class ModelModel(ConsoleReads reads) : PageModel
{
    [BindProperty(SupportsGet = true)] public string Name { get; set; } = "";
    [BindProperty(SupportsGet = true)] public string? AsOf { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Wire.ModelInfo? Info { get; private set; }
    public IReadOnlyList<Wire.ModelVersionInfo> Versions { get; private set; } = [];
    public bool MoreVersions { get; private set; }
    public Wire.HistoryPage? Timeline { get; private set; }
    public string? Problem { get; private set; }
    public bool PastView => !string.IsNullOrEmpty(AsOf);

    public async Task<IActionResult> OnGet()
    {
        var query = new Dictionary<string, StringValues> { ["asOf"] = AsOf };
        // A model the key may not read is answered as one that does not exist, as the API answers it.
        if (!await reads.ReadsModel(HttpContext, Name, query)) return NotFound();
        var info = await reads.Model(HttpContext, Name, query);
        if (info.Value is null)
        {
            if (info.Status == StatusCodes.Status404NotFound && !PastView) return NotFound();
            Problem = Describe(info.Title, info.Detail);
            return Page();
        }
        Info = info.Value;
        var versions = await reads.Versions(HttpContext, Name, new Dictionary<string, StringValues>(query) { ["limit"] = "100" });
        var history = await reads.History(HttpContext, Name, new Dictionary<string, StringValues>(query) { ["cursor"] = Cursor, ["limit"] = "100" });
        if (versions.Value is null || history.Value is null)
        {
            Problem = versions.Value is null ? Describe(versions.Title, versions.Detail) : Describe(history.Title, history.Detail);
            return Page();
        }
        Versions = versions.Value.Items;
        MoreVersions = versions.Value.NextCursor is not null;
        Timeline = history.Value;
        return Page();
    }

    public static string Describe(string? title, string? detail) =>
        (title, detail) switch
        {
            ({ Length: > 0 } t, { Length: > 0 } d) => $"{t}: {d}",
            (_, { Length: > 0 } d) => d,
            ({ Length: > 0 } t, _) => t,
            _ => "The model could not be read.",
        };

    public string Workspace => HttpContext.Workspace().Slug;

    /// <summary>The next page of the timeline, at the same instant.</summary>
    public string NextTimelineLink() => QueryString.Create(new Dictionary<string, string?>
    {
        ["asOf"] = AsOf,
        ["cursor"] = Timeline?.NextCursor,
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();

    public static string Verification(Wire.ArtifactReference artifact) => artifact.Verified switch
    {
        true => "verified: the registry hashed these bytes",
        false => "not verified: an external reference",
        null => "unknown",
    };
}
