using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace EventSourcedRegistry.Store;

/// <summary>
/// A workspace: one isolated registry inside a deployment. Its slug is immutable, addresses it
/// (<c>/api/v1/workspaces/{slug}/…</c>) and is the Marten tenant id of everything it holds, so every session, view,
/// sequence and chain opened for it sees nothing of another workspace (docs/design/workspaces.md).
/// </summary>
public sealed partial record WorkspaceId
{
    /// <summary>The workspace a store written before workspaces opens as, and what unprefixed routes address.</summary>
    public static readonly WorkspaceId Default = new("default");

    /// <summary>
    /// The platform: the reserved tenant that holds the workspace directory (created, renamed, archived), platform keys
    /// and the operator's chain. Its slug cannot be parsed (<c>~</c> is never in a slug), so no route can address it.
    /// </summary>
    public static readonly WorkspaceId Platform = new("~platform");

    private WorkspaceId(string slug) => Slug = slug;

    public string Slug { get; }

    /// <summary>The Marten tenant id: the slug itself (never Marten's <c>*DEFAULT*</c>, so an untenanted session fails closed).</summary>
    public string TenantId => Slug;

    /// <summary>Lower-case letter first, then lower-case letters, digits and hyphens; 2–39 characters.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out WorkspaceId? workspace)
    {
        workspace = text is not null && SlugPattern().IsMatch(text) ? new WorkspaceId(text) : null;
        return workspace is not null;
    }

    /// <summary>The workspace of a Marten tenant id as the store holds it (the platform's included); null for any other.</summary>
    public static WorkspaceId? FromTenantId(string? tenantId) =>
        tenantId == Platform.TenantId ? Platform : TryParse(tenantId, out var workspace) ? workspace : null;

    public static WorkspaceId Parse(string text) =>
        TryParse(text, out var workspace) ? workspace : throw new FormatException($"'{text}' is not a workspace slug.");

    public override string ToString() => Slug;

    [GeneratedRegex("^[a-z][a-z0-9-]{1,38}$", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();
}
