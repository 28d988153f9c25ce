using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

// The workspace directory (a platform admin's; members list their own). These commands address no workspace, so they
// ignore --workspace.

public sealed class ListWorkspacesCommand(CliEnvironment env) : RegistryCommand<GlobalSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, GlobalSettings s, CancellationToken ct) =>
        Show(s, await client.ListWorkspacesAsync(ct), list =>
        {
            var table = NewTable("slug", "name", "created", "archived");
            foreach (var w in list.Items) table.AddRow(Text(w.Slug), Text(w.DisplayName), Text(w.CreatedAt), Text(w.ArchivedAt));
            Console.Write(table);
        });
}

public sealed class WorkspaceSettings : GlobalSettings
{
    [CommandArgument(0, "<slug>")]
    [Description("The workspace's slug: its address (/api/v1/workspaces/<slug>/…), never changed.")]
    public string Slug { get; init; } = "";
}

public sealed class CreateWorkspaceSettings : GlobalSettings
{
    [CommandArgument(0, "<slug>")]
    [Description("2 to 39 lower-case letters, digits and hyphens, a letter first; never changed, never reused.")]
    public string Slug { get; init; } = "";

    [CommandArgument(1, "<display-name>")]
    [Description("The name people see; renamable.")]
    public string DisplayName { get; init; } = "";
}

public sealed class CreateWorkspaceCommand(CliEnvironment env) : RegistryCommand<CreateWorkspaceSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, CreateWorkspaceSettings s, CancellationToken ct) =>
        Show(s, await client.CreateWorkspaceAsync(s.Slug, s.DisplayName, ct), w => ShowWorkspace(Console, w));

    internal static void ShowWorkspace(IAnsiConsole console, WorkspaceInfo w)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]slug[/]", Text(w.Slug));
        grid.AddRow("name", Text(w.DisplayName));
        grid.AddRow("created", Text(w.CreatedAt));
        grid.AddRow("archived", Text(w.ArchivedAt));
        grid.AddRow("address", Text(w.Href + "/…"));
        console.Write(grid);
    }
}

public sealed class ShowWorkspaceCommand(CliEnvironment env) : RegistryCommand<WorkspaceSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, WorkspaceSettings s, CancellationToken ct) =>
        Show(s, await client.GetWorkspaceAsync(s.Slug, ct), w => CreateWorkspaceCommand.ShowWorkspace(Console, w));
}

public sealed class RenameWorkspaceSettings : GlobalSettings
{
    [CommandArgument(0, "<slug>")]
    public string Slug { get; init; } = "";

    [CommandArgument(1, "<display-name>")]
    public string DisplayName { get; init; } = "";

    [CommandOption("--reason <TEXT>")]
    public string? Reason { get; init; }
}

public sealed class RenameWorkspaceCommand(CliEnvironment env) : RegistryCommand<RenameWorkspaceSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RenameWorkspaceSettings s, CancellationToken ct) =>
        Show(s, await client.RenameWorkspaceAsync(s.Slug, s.DisplayName, s.Reason, ct), w => CreateWorkspaceCommand.ShowWorkspace(Console, w));
}

public sealed class ArchiveWorkspaceSettings : GlobalSettings
{
    [CommandArgument(0, "<slug>")]
    public string Slug { get; init; } = "";

    [CommandOption("--reason <TEXT>")]
    public string? Reason { get; init; }
}

public sealed class ArchiveWorkspaceCommand(CliEnvironment env) : RegistryCommand<ArchiveWorkspaceSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, ArchiveWorkspaceSettings s, CancellationToken ct) =>
        Show(s, await client.ArchiveWorkspaceAsync(s.Slug, s.Reason, ct), w => CreateWorkspaceCommand.ShowWorkspace(Console, w));
}
