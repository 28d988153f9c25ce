using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EventSourcedRegistry.Tests.Containers;

/// <summary>One Dockerfile instruction, its continuation lines joined.</summary>
public sealed record DockerInstruction(int Line, string Keyword, string Arguments)
{
    /// <summary>The instruction's arguments without its <c>--flag</c> options, exec (JSON array) form or shell form.</summary>
    public IReadOnlyList<string> Words()
    {
        var text = Arguments.Trim();
        var flagless = new List<string>();
        var words = text.StartsWith('[')
            ? JsonSerializer.Deserialize<string[]>(text) ?? []
            : text.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        foreach (var word in words)
            if (flagless.Count > 0 || !word.StartsWith("--", StringComparison.Ordinal)) flagless.Add(word);
        return flagless;
    }

    public IReadOnlyList<string> Flags() =>
        Arguments.Trim().StartsWith('[')
            ? []
            : Arguments.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries).TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal)).ToList();
}

/// <summary>
/// A small reader of the Dockerfile syntax this repository uses: comments, line continuations with <c>\</c>, flags,
/// exec form. No Docker engine runs where the project is built, so the file is checked by reading it.
/// </summary>
public static class Dockerfile
{
    public static IReadOnlyList<DockerInstruction> Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var current = new StringBuilder();
        var start = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (current.Length == 0 && (line.TrimStart().StartsWith('#') || string.IsNullOrWhiteSpace(line))) continue;
            if (current.Length > 0 && line.TrimStart().StartsWith('#')) continue; // a comment inside a continuation
            if (current.Length == 0) start = i + 1;
            var trimmed = line.TrimEnd();
            if (trimmed.EndsWith('\\'))
            {
                current.Append(trimmed[..^1]).Append(' ');
                continue;
            }
            current.Append(trimmed);
            var joined = current.ToString().Trim();
            current.Clear();
            var space = joined.IndexOfAny([' ', '\t']);
            instructions.Add(space < 0
                ? new DockerInstruction(start, joined.ToUpperInvariant(), "")
                : new DockerInstruction(start, joined[..space].ToUpperInvariant(), joined[(space + 1)..].Trim()));
        }
        if (current.Length > 0) throw new FormatException("The Dockerfile ends inside a line continuation.");
        return instructions;
    }
}

/// <summary>An image reference: <c>registry/repository:tag@digest</c>.</summary>
public sealed record ImageReference(string Repository, string? Tag, string? Digest)
{
    public static ImageReference Parse(string reference)
    {
        var digestAt = reference.IndexOf('@');
        var digest = digestAt < 0 ? null : reference[(digestAt + 1)..];
        var name = digestAt < 0 ? reference : reference[..digestAt];
        // A colon after the last slash separates the tag; one before it belongs to a registry's port.
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/')
            ? new ImageReference(name[..colon], name[(colon + 1)..], digest)
            : new ImageReference(name, null, digest);
    }

    /// <summary>The version the tag starts with (<c>10.0.401</c> of <c>10.0.401-noble</c>), or null.</summary>
    public string? TagVersion => Tag is null ? null : Regex.Match(Tag, @"^\d+(\.\d+)*") is { Success: true } m ? m.Value : null;

    /// <summary>What follows the version in the tag (<c>noble</c> of <c>10.0.401-noble</c>), or "".</summary>
    public string TagVariant => Tag is null || TagVersion is null ? "" : Tag[TagVersion.Length..].TrimStart('-');

    /// <summary>
    /// Pinned: a digest, or a tag naming a release exactly. A floating tag (none, <c>latest</c>, a major such as
    /// <c>15</c> or <c>10.0</c>) changes under the file without an edit. PostgreSQL numbers its releases major.minor
    /// (15.19); every other image here numbers them major.minor.patch.
    /// </summary>
    public bool IsPinned(out string why)
    {
        if (Digest is not null) { why = "pinned by digest"; return true; }
        var needed = Repository is "postgres" or "docker.io/library/postgres" ? 2 : 3;
        var parts = TagVersion?.Split('.').Length ?? 0;
        why = Tag is null ? "no tag (that is :latest)"
            : parts == 0 ? $"tag '{Tag}' names no version"
            : parts < needed ? $"tag '{Tag}' names only {parts} of the {needed} parts of a release version, so it floats"
            : "pinned by tag";
        return parts >= needed;
    }
}

/// <summary>
/// The SDK roll-forward rule of global.json, for deciding whether a pinned SDK image may build this repository
/// (https://learn.microsoft.com/dotnet/core/tools/global-json). Only the policies this repository could use are known;
/// any other is refused, so a new policy is taught here before an image is judged by it.
/// </summary>
public static class SdkRollForward
{
    public static bool Satisfies(string requested, string rollForward, string candidate, out string why)
    {
        var (rMajor, rMinor, rBand, rPatch) = Split(requested);
        var (cMajor, cMinor, cBand, cPatch) = Split(candidate);
        var sameMinor = rMajor == cMajor && rMinor == cMinor;
        bool ok;
        switch (rollForward)
        {
            case "disable":
                ok = requested == candidate;
                break;
            case "patch" or "latestPatch":
                ok = sameMinor && cBand == rBand && cPatch >= rPatch;
                break;
            case "feature" or "latestFeature":
                ok = sameMinor && (cBand > rBand || cBand == rBand && cPatch >= rPatch);
                break;
            default:
                why = $"global.json's rollForward '{rollForward}' is not one this check knows; teach {nameof(SdkRollForward)} it.";
                return false;
        }
        why = ok ? "" : $"SDK {candidate} does not satisfy global.json's {requested} with rollForward '{rollForward}'.";
        return ok;
    }

    /// <summary>10.0.401 → (10, 0, 4, 1): the third part is the feature band (hundreds) and the patch.</summary>
    private static (int Major, int Minor, int Band, int Patch) Split(string version)
    {
        var parts = version.Split('.');
        if (parts.Length != 3 || !parts.All(p => p.All(char.IsAsciiDigit) && p.Length > 0))
            throw new FormatException($"'{version}' is not an SDK version (major.minor.feature-band-and-patch).");
        var third = int.Parse(parts[2]);
        return (int.Parse(parts[0]), int.Parse(parts[1]), third / 100, third % 100);
    }
}

/// <summary>
/// .dockerignore as BuildKit reads it: each line a pattern over paths relative to the build context (<c>*</c> and
/// <c>?</c> within one segment, <c>**</c> across any number), <c>!</c> re-includes, the last matching line wins, and a
/// pattern that matches a directory matches everything under it.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Include, string Text)> _rules = [];

    public DockerIgnore(string text)
    {
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var include = line.StartsWith('!');
            var pattern = (include ? line[1..] : line).Trim().Trim('/');
            while (pattern.StartsWith("./", StringComparison.Ordinal)) pattern = pattern[2..];
            if (pattern.Length > 0) _rules.Add((ToRegex(pattern), include, line));
        }
    }

    public IEnumerable<string> Patterns => _rules.Select(r => r.Text);

    public bool Excludes(string relativePath)
    {
        var path = relativePath.Replace('\\', '/').Trim('/');
        var segments = path.Split('/');
        var prefixes = Enumerable.Range(1, segments.Length).Select(n => string.Join('/', segments.Take(n))).ToList();
        var excluded = false;
        foreach (var (pattern, include, _) in _rules)
            if (prefixes.Any(pattern.IsMatch)) excluded = !include;
        return excluded;
    }

    private static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                i++;
                if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                {
                    i++;
                    regex.Append("(.*/)?");
                }
                else regex.Append(".*");
            }
            else if (c == '*') regex.Append("[^/]*");
            else if (c == '?') regex.Append("[^/]");
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
