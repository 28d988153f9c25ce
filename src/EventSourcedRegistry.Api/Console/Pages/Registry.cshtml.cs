using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>One model as the registry page lists it, from the model list (now) or the registry at a point (asOf).</summary>
public sealed record RegistryRow(string Name, string? Description, IReadOnlyDictionary<string, string> Tags, bool Archived,
    IReadOnlyDictionary<string, List<int>> VersionsByStage, IReadOnlyDictionary<string, int> Aliases);

/// <summary>
/// The registry of a workspace: now, searched by name prefix, tag and stage (<c>GET /api/v1/models</c>); or as of an
/// instant (<c>GET /api/v1/registry?asOf=</c>), every model by the name it had then. Both paged by the API's cursor.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class RegistryModel(ConsoleReads reads) : PageModel
{
    /// <summary>Models a page lists: issue 15's speed line measures the as-of page at 50 models.</summary>
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Prefix { get; set; }
    [BindProperty(SupportsGet = true)] public string? Tag { get; set; }
    [BindProperty(SupportsGet = true)] public string? Stage { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }
    [BindProperty(SupportsGet = true)] public string? AsOf { get; set; }

    public IReadOnlyList<RegistryRow> Rows { get; private set; } = [];
    public string? NextCursor { get; private set; }
    public string? Problem { get; private set; }
    public long? AsOfSequence { get; private set; }
    public DateTimeOffset? AsOfInstant { get; private set; }
    /// <summary>A key scoped to models: the page lists the models its grants name, and has no search.</summary>
    public bool Scoped { get; private set; }
    public bool PastView => !string.IsNullOrEmpty(AsOf);

    public async Task OnGet()
    {
        if (!await reads.ReadsRegistryWide(HttpContext))
        {
            // A key scoped to models may not call the registry-wide reads: it is shown the models its grants name, read
            // as GET /api/v1/models/{name} reads them, and nothing else of the workspace (no other name, no count).
            Scoped = true;
            if (PastView)
            {
                Problem = "The registry as of an instant lists every model of the workspace; this key reads single models only.";
                return;
            }
            Rows = (await reads.GrantedModels(HttpContext)).Select(m => new RegistryRow(m.Name, m.Description, m.Tags, m.Archived,
                m.VersionsByStage.ToDictionary(s => s.Key, s => s.Value.ToList()), m.Aliases)).ToList();
            return;
        }
        var query = new Dictionary<string, StringValues> { ["cursor"] = Cursor, ["limit"] = PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (PastView)
        {
            query["asOf"] = AsOf;
            var answer = await reads.Registry(HttpContext, query);
            if (answer.Value is not { } page)
            {
                Problem = Describe(answer.Title, answer.Detail);
                return;
            }
            Rows = page.Items.Select(m => new RegistryRow(m.Model, null, new Dictionary<string, string>(), m.Archived, m.VersionsByStage, m.Aliases)).ToList();
            (NextCursor, AsOfSequence, AsOfInstant) = (page.NextCursor, page.AsOfSequence, page.AsOf);
        }
        else
        {
            query["prefix"] = Prefix;
            query["tag"] = Tag;
            query["stage"] = Stage;
            var answer = await reads.Models(HttpContext, query);
            if (answer.Value is not { } page)
            {
                Problem = Describe(answer.Title, answer.Detail);
                return;
            }
            Rows = page.Items.Select(m => new RegistryRow(m.Name, m.Description, m.Tags, m.Archived, m.VersionsByStage, m.Aliases)).ToList();
            NextCursor = page.NextCursor;
        }
    }

    private static string Describe(string? title, string? detail) => ConsoleProblem.Describe(title, detail, "The registry could not be read.");

    /// <summary>This page with the same filters and another cursor.</summary>
    public string NextPageLink() => QueryString.Create(new Dictionary<string, string?>
    {
        ["prefix"] = PastView ? null : Prefix,
        ["tag"] = PastView ? null : Tag,
        ["stage"] = PastView ? null : Stage,
        ["asOf"] = AsOf,
        ["cursor"] = NextCursor,
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();

    public string Workspace => HttpContext.Workspace().Slug;

    /// <summary>The diff between this page's instant and now.</summary>
    public string ChangesLink() => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "changes") + "?from=" + Uri.EscapeDataString(AsOf!);

    /// <summary>The model's page, at this page's instant.</summary>
    public string ModelLink(string name) =>
        ConsoleConfiguration.PathOf(HttpContext.Workspace(), "models/" + Uri.EscapeDataString(name)) +
        (PastView ? "?asOf=" + Uri.EscapeDataString(AsOf!) : "");
}
