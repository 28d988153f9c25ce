using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public class ModelSettings : GlobalSettings
{
    [CommandArgument(0, "<model>")]
    [Description("The model's name.")]
    public string Model { get; init; } = "";
}

public sealed class RegisterModelSettings : ModelSettings
{
    [CommandOption("--description <TEXT>")]
    public string? Description { get; init; }

    [CommandOption("--tag <KEY=VALUE>")]
    [Description("A tag (repeatable).")]
    public string[]? Tags { get; init; }
}

public sealed class RegisterModelCommand(CliEnvironment env) : RegistryCommand<RegisterModelSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RegisterModelSettings s, CancellationToken ct) =>
        Show(s, await client.RegisterModelAsync(s.Model, s.Description, Pairs(s.Tags, "--tag"), ct), m => Render(Console, m));

    public static void Render(IAnsiConsole console, ModelInfo m)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]model[/]", Text(m.Name));
        if (m.AsOfSequence is { } seq) grid.AddRow("[bold]as of sequence[/]", Text(seq));
        grid.AddRow("description", Text(m.Description));
        grid.AddRow("tags", Text(m.Tags));
        grid.AddRow("archived", Text(m.Archived));
        grid.AddRow("latest version", Text(m.LatestVersion));
        grid.AddRow("stages", Text(m.VersionsByStage));
        grid.AddRow("aliases", Text(m.Aliases));
        grid.AddRow("deployments", Text(m.Deployments));
        grid.AddRow("revision", Text(m.Revision));
        console.Write(grid);
    }
}

public sealed class ListModelsSettings : ListSettings
{
    [CommandOption("--prefix <PREFIX>")]
    public string? Prefix { get; init; }

    [CommandOption("--stage <STAGE>")]
    [Description("Only models with a version in this stage.")]
    public string? Stage { get; init; }

    [CommandOption("--tag <KEY:VALUE>")]
    [Description("Only models carrying this tag (repeatable: every one); key=value works too.")]
    public string[]? Tags { get; init; }

    [CommandOption("--include-archived")]
    public bool IncludeArchived { get; init; }
}

public sealed class ListModelsCommand(CliEnvironment env) : RegistryCommand<ListModelsSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, ListModelsSettings s, CancellationToken ct)
    {
        var query = new ModelQuery(s.Prefix, s.Stage, s.IncludeArchived, TagFilter(s.Tags));
        var (items, first, next) = await ReadPages(s, 500, (cursor, limit) => client.ListModelsAsync(query with { Cursor = cursor, Limit = limit }, ct),
            p => p.Items, p => p.NextCursor);

        return Show(s, first with { Items = items, NextCursor = next }, page =>
        {
            var table = NewTable("Model", "Latest", "Stages", "Aliases", "Tags", "Archived");
            foreach (var m in page.Items)
                table.AddRow(Text(m.Name), Text(m.LatestVersion), Text(m.VersionsByStage), Text(m.Aliases), Text(m.Tags), Text(m.Archived));
            Console.Write(table);
            More(page.NextCursor);
        });
    }

    /// <summary>
    /// <c>--tag key:value</c> as the API takes it; <c>key=value</c>, as <c>models register --tag</c> writes tags, is
    /// taken as well when there is no colon. The API splits at the first colon, and so does this.
    /// </summary>
    public static Dictionary<string, string>? TagFilter(string[]? tags)
    {
        if (tags is null || tags.Length == 0) return null;
        var filter = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            var colon = tag.IndexOf(':');
            var at = colon >= 0 ? colon : tag.IndexOf('=');
            if (at <= 0) throw new UsageException($"--tag takes key:value, not '{tag}'.");
            var (key, value) = (tag[..at], tag[(at + 1)..]);
            if (filter.TryGetValue(key, out var other) && other != value)
                throw new UsageException($"--tag {key} is given twice ('{other}' and '{value}'); a model carries one value per key.");
            filter[key] = value;
        }
        return filter;
    }
}

public class PointSettings : ModelSettings
{
    [CommandOption("--as-of <INSTANT>")]
    [Description("An RFC 3339 instant with Z or an offset, e.g. 2026-03-03T14:00:00Z (or a global sequence).")]
    public string? AsOf { get; init; }

    [CommandOption("--at-sequence <SEQUENCE>")]
    public long? AtSequence { get; init; }
}

/// <summary><c>models show</c> and <c>state</c>: the model view, now or at a point in history.</summary>
public sealed class ShowModelCommand(CliEnvironment env) : RegistryCommand<PointSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, PointSettings s, CancellationToken ct) =>
        Show(s, await client.GetModelAsync(s.Model, PointOf(s.AsOf, s.AtSequence), ct), m =>
        {
            RegisterModelCommand.Render(Console, m);
            if (m.PendingRequests is not { Count: > 0 } pending) return;
            Console.WriteLine();
            Console.MarkupLine(m.AsOfSequence is null ? "[yellow]Waiting for approval:[/]" : "[yellow]Waiting for approval then:[/]");
            var table = NewTable("Request", "Move", "Requested by", "At", "Approvals", "Reason");
            foreach (var r in pending)
                table.AddRow(Text(r.Id), Text(Requests.Move(m.Name, r.Kind, r.VersionNumber, r.Target)),
                    Text(r.RequesterOwner is null ? r.RequestedBy : $"{r.RequestedBy} ({r.RequesterOwner})"), Text(r.RequestedAt),
                    Text(r.Approvals?.Count ?? 0), Text(r.Reason));
            Console.Write(table);
            if (m.AsOfSequence is null)
                Console.MarkupLine($"An approver runs: esr requests approve {Text(m.Name)} <request> (see esr requests show {Text(m.Name)} <request>)");
        });
}

public sealed class HistorySettings : ModelSettings, IPagedSettings
{
    [CommandOption("--limit <N>")]
    [Description("Read one page of at most N events (default: every page).")]
    public int? Limit { get; init; }

    [CommandOption("--cursor <CURSOR>")]
    [Description("Read the page after an earlier answer's nextCursor.")]
    public string? Cursor { get; init; }
}

public sealed class HistoryCommand(CliEnvironment env) : RegistryCommand<HistorySettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, HistorySettings s, CancellationToken ct)
    {
        var (items, first, next) = await ReadPages(s, 1000, (cursor, limit) => client.GetHistoryAsync(s.Model, cursor, limit, ct),
            p => p.Items, p => p.NextCursor);

        return Show(s, first with { Items = items, NextCursor = next }, page =>
        {
            var table = NewTable("Seq", "Rev", "Time", "Event", "Actor", "Reason");
            foreach (var e in page.Items)
                table.AddRow(Text(e.Sequence), Text(e.Revision), Text(e.Timestamp), Text(e.Type), Text(e.Actor), Text(e.Reason));
            Console.Write(table);
            More(page.NextCursor);
        });
    }
}
