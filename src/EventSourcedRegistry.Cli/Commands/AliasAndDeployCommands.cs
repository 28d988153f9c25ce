using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public class AliasSettings : PointSettings
{
    [CommandArgument(1, "<alias>")]
    public string Alias { get; init; } = "";
}

public sealed class SetAliasSettings : AliasSettings
{
    [CommandArgument(2, "<version>")]
    public int Version { get; init; }

    [CommandOption("--reason <TEXT>")]
    public string? Reason { get; init; }
}

public sealed class RemoveAliasSettings : AliasSettings
{
    [CommandOption("--reason <TEXT>")]
    public string? Reason { get; init; }
}

public sealed class SetAliasCommand(CliEnvironment env) : RegistryCommand<SetAliasSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, SetAliasSettings s, CancellationToken ct) =>
        Show(s, await client.SetAliasAsync(s.Model, s.Alias, s.Version, s.Reason, ct: ct),
            a => Console.MarkupLine($"{Text(a.Model)}@{Text(a.Alias)} → v{a.Version}"));
}

public sealed class RemoveAliasCommand(CliEnvironment env) : RegistryCommand<RemoveAliasSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RemoveAliasSettings s, CancellationToken ct)
    {
        await client.RemoveAliasAsync(s.Model, s.Alias, s.Reason, ct: ct);
        return Show(s, new { model = s.Model, alias = s.Alias, removed = true },
            _ => Console.MarkupLine($"Removed {Text(s.Model)}@{Text(s.Alias)}."));
    }
}

public sealed class ShowAliasCommand(CliEnvironment env) : RegistryCommand<AliasSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, AliasSettings s, CancellationToken ct) =>
        Show(s, await client.ResolveAliasAsync(s.Model, s.Alias, PointOf(s.AsOf, s.AtSequence), ct), v => ShowVersionCommand.Render(Console, v));
}

public sealed class DeploySettings : ModelSettings
{
    [CommandArgument(1, "<version>")]
    public int Version { get; init; }

    [CommandArgument(2, "<environment>")]
    public string Environment { get; init; } = "";

    [CommandOption("--target <TARGET>")]
    [Description("The endpoint, cluster or region within the environment.")]
    public string? Target { get; init; }

    [CommandOption("--undeploy")]
    [Description("Report that the version was taken down.")]
    public bool Undeploy { get; init; }

    [CommandOption("--reason <TEXT>")]
    public string? Reason { get; init; }
}

public sealed class DeployCommand(CliEnvironment env) : RegistryCommand<DeploySettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, DeploySettings s, CancellationToken ct) =>
        Show(s, await client.ReportDeploymentAsync(s.Model, s.Version, s.Environment, s.Target, s.Undeploy, s.Reason, ct),
            d => Console.MarkupLine($"{Text(d.Model)} v{d.Version} {Text(d.Action)} in {Text(d.Environment)}{(d.Target is null ? "" : "/" + Text(d.Target))}."));
}
