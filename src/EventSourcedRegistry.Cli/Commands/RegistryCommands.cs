using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public sealed class RegistrySettings : ListSettings
{
    [CommandOption("--as-of <INSTANT>")]
    [Description("An RFC 3339 instant with Z or an offset, e.g. 2026-03-03T14:00:00Z.")]
    public string? AsOf { get; init; }

    [CommandOption("--at-sequence <SEQUENCE>")]
    public long? AtSequence { get; init; }
}

public sealed class RegistryStateCommand(CliEnvironment env) : RegistryCommand<RegistrySettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RegistrySettings s, CancellationToken ct)
    {
        var point = PointOf(s.AsOf, s.AtSequence);
        PointInTime? pinned = null;
        var (items, first, next) = await ReadPages(s, 1000, async (cursor, limit) =>
        {
            var page = await client.GetRegistryAsync(point ?? pinned, cursor, limit, ct);
            // Every later page at the first page's sequence: one registry state, not pages of several moments.
            if (page.AsOfSequence is { } sequence) pinned ??= PointInTime.AtSequence(sequence);
            return page;
        }, p => p.Items, p => p.NextCursor);

        return Show(s, first with { Items = items, NextCursor = next }, registry =>
        {
            if (registry.AsOfSequence is { } seq) Console.MarkupLine($"As of sequence [bold]{seq}[/]");
            var table = NewTable("Model", "Stages", "Aliases", "Deployments", "Archived");
            foreach (var m in registry.Items)
                table.AddRow(Text(m.Model), Text(m.VersionsByStage), Text(m.Aliases), Text(m.Deployments), Text(m.Archived));
            Console.Write(table);
            More(registry.NextCursor);
        });
    }
}

public sealed class ChangesSettings : ListSettings
{
    [CommandOption("--from <SEQUENCE_OR_INSTANT>")]
    [Description("Changes after this point (required).")]
    public string From { get; init; } = "";

    [CommandOption("--to <SEQUENCE_OR_INSTANT>")]
    public string? To { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(From) ? ValidationResult.Error("--from is required.")
        : CheckPoint(From, "--from") is { Successful: false } from ? from
        : CheckPoint(To, "--to") is { Successful: false } to ? to
        : base.Validate();
}

public sealed class ChangesCommand(CliEnvironment env) : RegistryCommand<ChangesSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, ChangesSettings s, CancellationToken ct)
    {
        string? pinnedTo = null;
        var (items, first, next) = await ReadPages(s, 5000, async (cursor, limit) =>
        {
            var page = await client.GetChangesAsync(s.From, s.To ?? pinnedTo, cursor, limit, ct);
            // Later pages up to the first page's end: the changes between two points, not up to wherever each page got.
            pinnedTo ??= page.ToSequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return page;
        }, p => p.Items, p => p.NextCursor);

        return Show(s, first with { Items = items, NextCursor = next }, changes =>
        {
            var table = NewTable("Seq", "Time", "Model", "Change", "Version", "From", "To", "Actor", "Reason");
            foreach (var c in changes.Items)
                table.AddRow(Text(c.Sequence), Text(c.Timestamp), Text(c.Model), Text(c.Type), Text(c.Version),
                    Text(c.FromStage ?? (c.PreviousVersion is { } p ? $"v{p}" : null)),
                    Text(c.ToStage ?? c.Alias ?? (c.Environment is null ? null : c.Target is null ? c.Environment : $"{c.Environment}/{c.Target}")),
                    Text(c.Actor), Text(c.Reason));
            Console.Write(table);
            More(changes.NextCursor);
        });
    }
}

public sealed class RollbackSettings : ModelSettings
{
    [CommandOption("--to <INSTANT_OR_SEQUENCE>")]
    [Description("Where to roll back to: an RFC 3339 instant or a global sequence (required).")]
    public string To { get; init; } = "";

    [CommandOption("--reason <TEXT>")]
    [Description("Why (required; recorded in the history).")]
    public string Reason { get; init; } = "";

    [CommandOption("--dry-run")]
    [Description("Show the plan without applying it.")]
    public bool DryRun { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(To) ? ValidationResult.Error("--to is required.")
        : string.IsNullOrWhiteSpace(Reason) ? ValidationResult.Error("--reason is required.")
        : base.Validate();
}

public sealed class RollbackCommand(CliEnvironment env) : RegistryCommand<RollbackSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RollbackSettings s, CancellationToken ct)
    {
        var point = PointOf(s.To, null, "--to")!;
        var outcome = await client.RollbackAsync(s.Model,
            new RollbackRequest(s.Reason, point.Instant, point.Sequence, s.DryRun), ct);
        return Show(s, outcome, o =>
        {
            Console.MarkupLine(o.DryRun
                ? $"Plan to roll {Text(o.Model)} back to sequence [bold]{o.AsOfSequence}[/] (dry run, nothing applied):"
                : $"Rolled {Text(o.Model)} back to sequence [bold]{o.AsOfSequence}[/]{(o.Applied ? "" : " (nothing to change)")}:");
            var table = NewTable("Kind", "Subject", "Version", "From", "To", "Approval");
            foreach (var c in o.Plan)
                table.AddRow(Text(c.Kind), Text(c.Subject), Text(c.Version), Text(c.From), Text(c.To), c.RequiresApproval ? "[yellow]required[/]" : "");
            Console.Write(table);
            if (o.ApprovalRequired)
                Console.MarkupLine("[yellow]Applying this plan is refused: it puts versions into a protected stage or moves a protected alias. " +
                                   "Request those moves (esr stage, esr alias set) and have another owner approve them.[/]");
        });
    }
}
