using System.Text;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Docs;

/// <summary>
/// README.md stays what a newcomer needs (issue 19: it had grown to 1,500 lines, a third of them benchmark notes), and
/// no link in README.md or docs/ leads nowhere once sections move between them.
/// </summary>
public class when_checking_the_documentation
{
    private const int MaxReadmeLines = 500;

    public static TheoryData<string> MarkdownFiles()
    {
        var files = new TheoryData<string>("README.md");
        foreach (var file in Directory.EnumerateFiles(RepositoryFiles.PathOf("docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            files.Add(RepositoryFiles.Relative(file));
        return files;
    }

    [Fact]
    public void the_readme_stays_under_500_lines()
    {
        var lines = RepositoryFiles.Read("README.md").TrimEnd('\n').Split('\n').Length;
        Assert.True(lines < MaxReadmeLines,
            $"README.md has {lines} lines; keep it under {MaxReadmeLines} (what a user needs first) and move reference material to docs/, linked.");
    }

    [Fact]
    public void the_readme_keeps_the_two_commands_ci_and_newcomers_run()
    {
        var section = Section(RepositoryFiles.Read("README.md"), "The two commands");
        var commands = Regex.Matches(section, "```sh\n(.*?)\n```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["dotnet run --project src/EventSourcedRegistry.Api", "dotnet test EventSourcedRegistry.sln"], commands);
    }

    [Theory]
    [MemberData(nameof(MarkdownFiles))]
    public void every_relative_link_leads_to_a_file_and_heading_that_exist(string file)
    {
        var text = RepositoryFiles.Read(file);
        var broken = new List<string>();
        foreach (var (line, target) in Links(text))
        {
            if (Regex.IsMatch(target, "^[a-z][a-z0-9+.-]*:", RegexOptions.IgnoreCase)) continue; // https:, mailto: …
            var hash = target.IndexOf('#');
            var path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var resolved = path.Length == 0
                ? RepositoryFiles.PathOf(file)
                : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(RepositoryFiles.PathOf(file))!, path));
            if (!resolved.StartsWith(RepositoryFiles.Root, StringComparison.Ordinal) || !File.Exists(resolved) && !Directory.Exists(resolved))
                broken.Add($"{file}:{line}: ({target}): no such file");
            else if (anchor is { Length: > 0 } && resolved.EndsWith(".md", StringComparison.Ordinal)
                     && !Anchors(File.ReadAllText(resolved)).Contains(anchor))
                broken.Add($"{file}:{line}: ({target}): no heading '#{anchor}' in {RepositoryFiles.Relative(resolved)}");
        }
        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Theory]
    [InlineData("For pipelines: the client, `esr` and samples", "for-pipelines-the-client-esr-and-samples")]
    [InlineData("HTTP API (v1)", "http-api-v1")]
    [InlineData("For release managers: four-eyes approval", "for-release-managers-four-eyes-approval")]
    [InlineData("Registry as of a point: before and after", "registry-as-of-a-point-before-and-after")]
    public void a_heading_is_linked_by_githubs_anchor_for_it(string heading, string anchor) =>
        Assert.Contains(anchor, Anchors($"# Title\n\n## {heading}\n"));

    [Fact]
    public void links_and_headings_inside_code_are_not_read_as_markdown()
    {
        const string text = "## Real\n\n```sh\n# → 201 {\"uri\":\"x\"}\n[not](a-link.md)\n```\n\nSee `[also not](code.md)` and [this](#real).\n";
        Assert.Equal(["real"], Anchors(text));
        Assert.Equal([(8, "#real")], Links(text));
    }

    /// <summary>The text of a <c>## heading</c> section, up to the next heading of that level.</summary>
    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf($"\n## {heading}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"No section '## {heading}'.");
        var end = markdown.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return markdown[start..(end < 0 ? markdown.Length : end)];
    }

    /// <summary>Markdown outside fenced code blocks, line by line (1-based), with inline code blanked out.</summary>
    private static IEnumerable<(int Line, string Text)> Prose(string markdown)
    {
        var fenced = false;
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }
            if (!fenced) yield return (i + 1, Regex.Replace(lines[i], "`[^`]*`", m => new string(' ', m.Length)));
        }
    }

    /// <summary>Inline links and images, <c>[text](target)</c>, and reference definitions, <c>[label]: target</c>.</summary>
    private static List<(int Line, string Target)> Links(string markdown) =>
        Prose(markdown).SelectMany(p =>
                Regex.Matches(p.Text, @"\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)").Select(m => (p.Line, m.Groups[1].Value))
                    .Concat(Regex.Matches(p.Text, @"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)").Select(m => (p.Line, m.Groups[1].Value))))
            .ToList();

    /// <summary>
    /// The anchors GitHub gives a file's headings: lower case, everything but letters, digits, spaces, hyphens and
    /// underscores dropped, spaces turned into hyphens, and "-1", "-2" … after a repeated one.
    /// </summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var fenced = false;
        foreach (var line in markdown.Replace("\r\n", "\n").Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) fenced = !fenced;
            if (fenced || Regex.Match(line, @"^#{1,6}\s+(.*?)\s*#*\s*$") is not { Success: true } heading) continue;
            var text = Regex.Replace(heading.Groups[1].Value, @"\[([^\]]*)\]\([^)]*\)", "$1"); // a link's text only
            var slug = new StringBuilder();
            foreach (var c in text.ToLowerInvariant())
                if (char.IsLetterOrDigit(c) || c is '-' or '_') slug.Append(c);
                else if (c == ' ') slug.Append('-');
            var anchor = slug.ToString();
            var count = seen.GetValueOrDefault(anchor);
            seen[anchor] = count + 1;
            anchors.Add(count == 0 ? anchor : $"{anchor}-{count}");
        }
        return anchors;
    }
}
