using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public sealed class CreateKeySettings : GlobalSettings
{
    [CommandArgument(0, "<name>")]
    [Description("The key's name; events it causes record the actor key:<name>.")]
    public string Name { get; init; } = "";

    [CommandOption("--owner <OWNER>")]
    [Description("Required: the person or service the key belongs to (e.g. alice@example.com); four-eyes approval compares owners.")]
    public string? Owner { get; init; }

    [CommandOption("--grant <ROLE[:MODEL]>")]
    [Description("A role, registry-wide (reader, contributor, approver, auditor, admin) or for one model (contributor:churn); repeatable.")]
    public string[]? Grants { get; init; }
}

public sealed class CreateKeyCommand(CliEnvironment env) : RegistryCommand<CreateKeySettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, CreateKeySettings s, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(s.Owner)) throw new UsageException("Give the key's --owner: the person or service it belongs to, e.g. --owner alice@example.com.");
        if (s.Grants is not { Length: > 0 }) throw new UsageException("Give at least one --grant, e.g. --grant reader.");
        var created = await client.CreateKeyAsync(s.Name, s.Owner, s.Grants.Select(ApiKeyGrant.Parse).ToList(), ct);
        return Show(s, created, k =>
        {
            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("[bold]key[/]", Text(k.Key));
            grid.AddRow("id", Text(k.Id));
            grid.AddRow("name", Text(k.Name));
            grid.AddRow("owner", Text(k.Owner));
            grid.AddRow("grants", Text(k.Grants.Select(g => g.ToString())));
            Console.Write(grid);
            Console.MarkupLine("[yellow]The key is shown this once; the registry keeps only its hash.[/]");
        });
    }
}

public sealed class ListKeysCommand(CliEnvironment env) : RegistryCommand<GlobalSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, GlobalSettings s, CancellationToken ct) =>
        Show(s, await client.ListKeysAsync(ct), list =>
        {
            var table = NewTable("id", "name", "owner", "grants", "created", "by", "revoked");
            foreach (var k in list.Items)
                table.AddRow(Text(k.Id), Text(k.Name), Text(k.Owner), Text(k.Grants.Select(g => g.ToString())), Text(k.CreatedAt), Text(k.CreatedBy), Text(k.RevokedAt));
            Console.Write(table);
        });
}

public sealed class RevokeKeySettings : GlobalSettings
{
    [CommandArgument(0, "<id>")]
    [Description("The key's id (the part after esr_ in the key, as keys list shows it).")]
    public string Id { get; init; } = "";
}

public sealed class RevokeKeyCommand(CliEnvironment env) : RegistryCommand<RevokeKeySettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RevokeKeySettings s, CancellationToken ct) =>
        Show(s, await client.RevokeKeyAsync(s.Id, ct), k => Console.MarkupLine($"revoked [bold]{Text(k.Name)}[/] ({Text(k.Id)}) at {Text(k.RevokedAt)}"));
}
