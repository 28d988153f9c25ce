using System.ComponentModel;
using EventSourcedRegistry.Client;
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

public sealed class ListModelsSettings : GlobalSettings
{
    [CommandOption("--prefix <PREFIX>")]
    public string? Prefix { get; init; }

    [CommandOption("--stage <STAGE>")]
    [Description("Only models with a version in this stage.")]
    public string? Stage { get; init; }

    [CommandOption("--include-archived")]
    public bool IncludeArchived { get; init; }
}

public sealed class ListModelsCommand(CliEnvironment env) : RegistryCommand<ListModelsSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, ListModelsSettings s, CancellationToken ct)
    {
        var items = new List<ModelInfo>();
        string? cursor = null;
        do
        {
            var page = await client.ListModelsAsync(s.Prefix, s.Stage, s.IncludeArchived, cursor, 500, ct);
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);

        return Show(s, items, models =>
        {
            var table = NewTable("Model", "Latest", "Stages", "Aliases", "Tags", "Archived");
            foreach (var m in models)
                table.AddRow(Text(m.Name), Text(m.LatestVersion), Text(m.VersionsByStage), Text(m.Aliases), Text(m.Tags), Text(m.Archived));
            Console.Write(table);
        });
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
        Show(s, await client.GetModelAsync(s.Model, PointOf(s.AsOf, s.AtSequence), ct), m => RegisterModelCommand.Render(Console, m));
}

public sealed class HistoryCommand(CliEnvironment env) : RegistryCommand<ModelSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, ModelSettings s, CancellationToken ct)
    {
        var items = new List<HistoryEntry>();
        string? cursor = null;
        do
        {
            var page = await client.GetHistoryAsync(s.Model, cursor, ct: ct);
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);

        return Show(s, items, entries =>
        {
            var table = NewTable("Seq", "Rev", "Time", "Event", "Actor", "Reason");
            foreach (var e in entries)
                table.AddRow(Text(e.Sequence), Text(e.Revision), Text(e.Timestamp), Text(e.Type), Text(e.Actor), Text(e.Reason));
            Console.Write(table);
        });
    }
}
