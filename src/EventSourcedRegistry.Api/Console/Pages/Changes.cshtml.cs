using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// What changed in the registry between two instants (<c>GET /api/v1/registry/changes?from=&amp;to=</c>): every stage,
/// alias and deployment change, grouped by model, with who and why, paged by the API's cursor.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class ChangesModel(ConsoleReads reads) : PageModel
{
    /// <summary>A page of the endpoint's answer is at most this many changes.</summary>
    public const int PageSize = 200;

    [BindProperty(SupportsGet = true)] public string? From { get; set; }
    [BindProperty(SupportsGet = true)] public string? To { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Wire.RegistryChangesPage? Changes { get; private set; }
    public string? Problem { get; private set; }

    /// <summary>The page's changes by model (the name it had at the change), in the order each model first changed.</summary>
    public IEnumerable<IGrouping<Guid, Wire.RegistryChange>> ByModel => Changes?.Items.GroupBy(c => c.ModelId) ?? [];

    public async Task OnGet()
    {
        if (string.IsNullOrEmpty(From)) return;
        // The endpoint is a registry-wide read: a key scoped to models is refused by the API's policy, and so here, before
        // anything is read (the answer names no model and counts nothing).
        if (!await reads.ReadsRegistryWide(HttpContext))
        {
            Problem = $"Forbidden: {AccessClaims.ActorOf(User) ?? "this key"} may not read the registry's changes, which span every model " +
                      "of the workspace; this key reads single models only.";
            return;
        }
        var answer = await reads.Changes(HttpContext, new Dictionary<string, StringValues>
        {
            ["from"] = From, ["to"] = To, ["cursor"] = Cursor, ["limit"] = PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        if (answer.Value is null) Problem = ConsoleProblem.Describe(answer.Title, answer.Detail);
        else Changes = answer.Value;
    }

    public string Workspace => HttpContext.Workspace().Slug;

    /// <summary>What the change did, as text (the page encodes it).</summary>
    public static string Describe(Wire.RegistryChange c) => c.Type switch
    {
        "ModelVersionStageTransitioned" => $"version {c.Version}: stage {c.FromStage} → {c.ToStage}",
        "ModelAliasAssigned" => $"alias {c.Alias} → version {c.Version}" + (c.PreviousVersion is { } p ? $" (was version {p})" : ""),
        "ModelAliasRemoved" => $"alias {c.Alias} removed (was version {c.Version})",
        "ModelVersionDeployed" => $"version {c.Version} deployed to {Where(c)}" + (c.PreviousVersion is { } p ? $" (replacing version {p})" : ""),
        "ModelVersionUndeployed" => $"version {c.Version} undeployed from {Where(c)}",
        _ => $"{c.Type}, version {c.Version}",
    };

    private static string Where(Wire.RegistryChange c) => c.Target is { Length: > 0 } t ? $"{c.Environment} ({t})" : c.Environment ?? "";

    /// <summary>The model's page as of the diff's second instant (now when none was given).</summary>
    public string ModelLink(string name) =>
        ConsoleConfiguration.PathOf(HttpContext.Workspace(), "models/" + Uri.EscapeDataString(name)) +
        (string.IsNullOrEmpty(To) ? "" : "?asOf=" + Uri.EscapeDataString(To));

    /// <summary>The next page of the same diff.</summary>
    public string NextPageLink() => QueryString.Create(new Dictionary<string, string?>
    {
        ["from"] = From, ["to"] = To, ["cursor"] = Changes?.NextCursor,
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();
}
