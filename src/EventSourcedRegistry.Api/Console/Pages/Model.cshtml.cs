using System.Globalization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// One model, now or as of an instant: its versions (stage and who put it there with whose approval, aliases, metrics,
/// lineage, artifact digest and whether the registry verified it), its deployment history as a chart, the metadata
/// standard, and the timeline of its events (who, when, why, correlation id), read through the API's model endpoints.
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
        await ReadDeploymentHistory(query);
        await ReadMetadataStandard();
        return Page();
    }

    /// <summary>The stage intervals and deployments the chart draws, and who put each version in its stage with whose approval.</summary>
    private async Task ReadDeploymentHistory(Dictionary<string, StringValues> query)
    {
        var deployments = await reads.Deployments(HttpContext, Name, new Dictionary<string, StringValues>(query) { ["limit"] = MaxIntervals.ToString(CultureInfo.InvariantCulture) });
        if (deployments.Value is null)
        {
            Problem = Describe(deployments.Title, deployments.Detail);
            return;
        }
        Deployments = deployments.Value.Items;
        MoreIntervals = deployments.Value.NextCursor is not null;
        ChartEnd = Info?.AsOf ?? DateTimeOffset.UtcNow;

        // The transitions that put each version where it is (its open stage interval), explained by the model's events up
        // to the same point: read a page at a time, as far as MaxHistoryPages pages.
        var stages = Deployments.Where(i => i.Kind == "stage").ToList();
        // A version still in the stage it was registered in was put there by its registration: no transition to explain,
        // and no events to read for it.
        SinceRegistration = stages.Where(i => i.Left is null && !stages.Any(o => o.Version == i.Version && o.Entered.Sequence < i.Entered.Sequence))
            .ToDictionary(i => i.Version, i => new StageProvenance.Entry(i.Entered.Sequence, i.Entered.At, i.Entered.Actor, i.Entered.Reason, null));
        var open = stages.Where(i => i.Left is null && !SinceRegistration.ContainsKey(i.Version)).ToList();
        // An archived version was put there by whoever retired it: shown from its interval, with no approval to look for
        // (an approval is of the version that displaced it, shown on that version). This keeps a model with many
        // retired versions to one or two transitions to explain.
        var archive = (await HttpContext.RequestServices.GetRequiredService<Settings.WorkspacePolicies>()
            .ForAsync(HttpContext.Workspace(), HttpContext.RequestAborted)).Lifecycle.ArchiveStage;
        Retired = open.Where(i => i.Stage == archive).ToDictionary(i => i.Version,
            i => new StageProvenance.Entry(i.Entered.Sequence, i.Entered.At, i.Entered.Actor, i.Entered.Reason, null));
        open = open.Where(i => i.Stage != archive).ToList();
        if (open.Count == 0 || Info is null) return;

        var entries = new Dictionary<long, StageProvenance.Entry>();
        var revisions = await reads.RevisionsOf(HttpContext, Info.Id, open.Select(i => i.Entered.Sequence).ToList());
        foreach (var interval in open)
        {
            if (!revisions.TryGetValue(interval.Entered.Sequence, out var revision)) continue;
            if (await Explain(query, interval.Entered.Sequence, revision) is { } entry) entries[interval.Entered.Sequence] = entry;
        }
        Provenance = open.Where(i => entries.ContainsKey(i.Entered.Sequence)).ToDictionary(i => i.Version, i => entries[i.Entered.Sequence]);
        // A transition whose events were not read (a commit longer than the window read, or a read refused) is shown from
        // its interval alone, saying the approval could not be read: never as "without an approval request".
        Unexplained = open.Where(i => !entries.ContainsKey(i.Entered.Sequence)).ToDictionary(i => i.Version,
            i => new StageProvenance.Entry(i.Entered.Sequence, i.Entered.At, i.Entered.Actor, i.Entered.Reason, null));
    }

    /// <summary>
    /// The transition at <paramref name="sequence"/> (revision <paramref name="revision"/> of the model) and the request it
    /// completed. Only the events just before it are read (its own commit, where the completing approval is), not the
    /// model's whole history: a 1,000-event model's page stays one short read per staged version. The window widens while
    /// the commit may reach further back; the request's requester and approvals are the request's own read.
    /// </summary>
    private async Task<StageProvenance.Entry?> Explain(Dictionary<string, StringValues> query, long sequence, long revision)
    {
        for (var window = CommitWindow; window <= GetModelHistoryMaxLimit; window *= 8)
        {
            var from = Math.Max(0, revision - window);
            var answer = await reads.History(HttpContext, Name, new Dictionary<string, StringValues>(query)
            {
                ["cursor"] = from.ToString(CultureInfo.InvariantCulture),
                ["limit"] = (revision - from).ToString(CultureInfo.InvariantCulture),
            });
            if (answer.Value is not { } page) return null;
            var transition = page.Items.FirstOrDefault(e => e.Sequence == sequence);
            if (transition is null) return null;
            // The window's first event in the transition's commit: the commit may begin before it.
            if (from > 0 && page.Items.Count > 0 && page.Items[0].CorrelationId == transition.CorrelationId) continue;
            if (!StageProvenance.Of(page.Items, [sequence]).TryGetValue(sequence, out var entry)) return null;
            if (entry.Request is not { } partial) return entry;
            var request = await reads.TransitionRequest(HttpContext, Info!.Name, partial.Id);
            if (request.Value is not { } read) return entry with { Request = partial with { RequestedBy = "" } };
            return entry with
            {
                Request = new StageProvenance.Request(read.Id, read.RequestedBy, read.RequestedAt, read.Reason,
                    read.Approvals.Select(a => new StageProvenance.Approval(a.Approver, a.ApprovedAt, a.Reason)).ToList()),
            };
        }
        return null;
    }

    /// <summary>Events read before a transition to find its commit's start; widened eightfold up to the history's page limit.</summary>
    private const int CommitWindow = 16;
    private const int GetModelHistoryMaxLimit = Api.Models.History.GetModelHistoryEndpoint.MaxLimit;

    /// <summary>
    /// The metadata standard new versions must meet: the model's own (as of the page's point) and the workspace's (now; a
    /// registry-wide read, so not for a key scoped to models).
    /// </summary>
    private async Task ReadMetadataStandard()
    {
        ModelSchema = Info?.MetadataSchema;
        if (!await reads.ReadsRegistryWide(HttpContext)) return;
        var answer = await reads.RegistryMetadataSchema(HttpContext);
        WorkspaceSchema = answer.Value?.Schema;
    }

    /// <summary>The deployment history's intervals the page reads (the endpoint's page limit).</summary>
    public const int MaxIntervals = 1000;

    public IReadOnlyList<Wire.DeploymentInterval> Deployments { get; private set; } = [];
    public bool MoreIntervals { get; private set; }
    public DateTimeOffset ChartEnd { get; private set; }
    /// <summary>Per version in a stage: the transition that put it there and the request it completed.</summary>
    public IReadOnlyDictionary<int, StageProvenance.Entry> Provenance { get; private set; } = new Dictionary<int, StageProvenance.Entry>();
    /// <summary>Per version in a stage whose transition's events were not read: the interval's own who and why.</summary>
    public IReadOnlyDictionary<int, StageProvenance.Entry> Unexplained { get; private set; } = new Dictionary<int, StageProvenance.Entry>();
    /// <summary>Per archived version: the transition that retired it.</summary>
    public IReadOnlyDictionary<int, StageProvenance.Entry> Retired { get; private set; } = new Dictionary<int, StageProvenance.Entry>();
    /// <summary>Per version in the stage it was registered in: its registration.</summary>
    public IReadOnlyDictionary<int, StageProvenance.Entry> SinceRegistration { get; private set; } = new Dictionary<int, StageProvenance.Entry>();
    public System.Text.Json.JsonElement? ModelSchema { get; private set; }
    public System.Text.Json.JsonElement? WorkspaceSchema { get; private set; }

    /// <summary>An http or https address as a link target; anything else (<c>javascript:</c>, <c>data:</c>, a relative path) is not one.</summary>
    public static string? SafeLink(string? address) =>
        Uri.TryCreate(address?.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri.AbsoluteUri : null;

    /// <summary>The commit's page on the repository's host (<c>{repository}/commit/{sha}</c>), when both look like that.</summary>
    public static string? CommitLink(Wire.Lineage lineage) =>
        SafeLink(lineage.SourceRepository) is { } repository && lineage.SourceCommit is { } commit && IsCommit(commit)
            ? repository.TrimEnd('/') + "/commit/" + commit : null;

    private static bool IsCommit(string commit) => commit.Length is >= 7 and <= 64 && commit.All(char.IsAsciiHexDigit);

    /// <summary>" (reason)", or nothing without one.</summary>
    public static string Parenthesized(string? reason) => string.IsNullOrEmpty(reason) ? "" : $" ({reason})";

    /// <summary>A schema in short: the names of its required properties, else of its properties.</summary>
    public static string SchemaSummary(System.Text.Json.JsonElement schema)
    {
        static IEnumerable<string> Names(System.Text.Json.JsonElement s, string member) =>
            s.ValueKind == System.Text.Json.JsonValueKind.Object && s.TryGetProperty(member, out var m)
                ? m.ValueKind switch
                {
                    System.Text.Json.JsonValueKind.Array => m.EnumerateArray().Where(e => e.ValueKind == System.Text.Json.JsonValueKind.String).Select(e => e.GetString()!),
                    System.Text.Json.JsonValueKind.Object => m.EnumerateObject().Select(p => p.Name),
                    _ => [],
                }
                : [];
        var required = Names(schema, "required").ToList();
        if (required.Count > 0) return "requires " + string.Join(", ", required);
        var properties = Names(schema, "properties").ToList();
        return properties.Count > 0 ? "describes " + string.Join(", ", properties) : "no named properties";
    }

    /// <summary>A schema as indented JSON.</summary>
    public static string Indented(System.Text.Json.JsonElement schema) => System.Text.Json.JsonSerializer.Serialize(schema, IndentedJson);

    private static readonly System.Text.Json.JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static string Describe(string? title, string? detail) => ConsoleProblem.Describe(title, detail, "The model could not be read.");

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
