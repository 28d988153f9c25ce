using EventSourcedRegistry.Api.Workspaces;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Artifacts.Orphans;

public sealed record OrphanArtifact(string Sha256, long SizeBytes, DateTimeOffset StoredAt);

/// <summary>
/// Stored artifacts that no model version references: what an upload without a registration leaves. Per workspace: its
/// store holds only its own bytes, and only its own versions keep them (the same bytes in another workspace are another blob).
/// </summary>
public static partial class OrphanArtifacts
{
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromHours(24);

    /// <summary>Every stored artifact whose digest no version names (store-held or external, so nothing in use is ever called an orphan).</summary>
    public static async Task<List<OrphanArtifact>> Find(IArtifactStore artifacts, WorkspaceStore documents, CancellationToken ct)
    {
        var referenced = await ReferencedDigests(documents, ct);
        var orphans = new List<OrphanArtifact>();
        await foreach (var artifact in artifacts.ListAsync(ct))
            if (!referenced.Contains(artifact.Sha256))
                orphans.Add(new OrphanArtifact(artifact.Sha256, artifact.SizeBytes, artifact.StoredAt));
        return orphans.OrderBy(o => o.StoredAt).ThenBy(o => o.Sha256, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Digests any version ever named, and every file of the MLflow artifact proxy: a proxy path keeps its bytes whether or
    /// not a version was registered on its directory yet (a version binds the files' manifest digest, which names no blob).
    /// Versions are read from their events, not the current views: a deleted model or version leaves the views, but its
    /// history still names its bytes, and an auditor reading it as of an earlier point must still be able to fetch them.
    /// </summary>
    public static async Task<HashSet<string>> ReferencedDigests(WorkspaceStore documents, CancellationToken ct)
    {
        await using var session = documents.QuerySession();
        var digests = await session.Events.QueryRawEventDataOnly<ModelVersionRegistered>().Select(e => e.Artifact.Sha256).Distinct().ToListAsync(ct);
        var files = await session.Query<EventSourcedRegistry.Mlflow.MlflowArtifactFile>().Select(f => f.Sha256).Distinct().ToListAsync(ct);
        return digests.Concat(files).Where(d => !string.IsNullOrEmpty(d)).Select(d => d.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// A grace period: <c>30s</c>, <c>15m</c>, <c>24h</c>, <c>7d</c>, combinations such as <c>1d12h</c>, <c>0</c>,
    /// or ISO 8601 (<c>PT24H</c>).
    /// </summary>
    public static bool TryParseDuration(string? raw, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(raw) || raw.Length > 40) return false;
        raw = raw.Trim();
        if (raw == "0") return true;
        if (raw.StartsWith('P'))
        {
            try { duration = XmlConvert.ToTimeSpan(raw); }
            catch (FormatException) { return false; }
            catch (OverflowException) { return false; }
            return duration >= TimeSpan.Zero;
        }

        var match = ShortDuration().Match(raw);
        if (!match.Success || match.Length == 0) return false;
        try
        {
            duration = TimeSpan.FromDays(Part(match, "d")) + TimeSpan.FromHours(Part(match, "h"))
                       + TimeSpan.FromMinutes(Part(match, "m")) + TimeSpan.FromSeconds(Part(match, "s"));
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static long Part(Match match, string unit) =>
        match.Groups[unit].Success ? long.Parse(match.Groups[unit].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex("^(?:(?<d>[0-9]{1,6})d)?(?:(?<h>[0-9]{1,7})h)?(?:(?<m>[0-9]{1,9})m)?(?:(?<s>[0-9]{1,10})s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ShortDuration();
}
