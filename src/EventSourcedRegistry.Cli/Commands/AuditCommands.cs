using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public sealed class AuditSettings : GlobalSettings
{
    [CommandOption("--actor <ACTOR>")]
    public string? Actor { get; init; }

    [CommandOption("--model <MODEL>")]
    public string? Model { get; init; }

    [CommandOption("--type <EVENT_TYPE>")]
    [Description("An event type (repeatable).")]
    public string[]? Types { get; init; }

    [CommandOption("--from <SEQUENCE_OR_INSTANT>")]
    public string? From { get; init; }

    [CommandOption("--to <SEQUENCE_OR_INSTANT>")]
    public string? To { get; init; }

    [CommandOption("--limit <N>")]
    [Description("At most N events (default: the API's page, 100).")]
    public int? Limit { get; init; }

    [CommandOption("--cursor <CURSOR>")]
    [Description("The page after an earlier answer's nextCursor.")]
    public string? Cursor { get; init; }

    [CommandOption("--export <FORMAT>")]
    [Description("Stream the whole filtered log as ndjson or csv.")]
    public string? Export { get; init; }

    [CommandOption("--out <FILE>")]
    [Description("Where the export goes (default: stdout).")]
    public string? Out { get; init; }

    public override ValidationResult Validate() =>
        Export is not null && Export.ToLowerInvariant() is not ("ndjson" or "csv")
            ? ValidationResult.Error("--export is ndjson or csv.")
            : CheckPoint(From, "--from") is { Successful: false } from ? from
            : CheckPoint(To, "--to") is { Successful: false } to ? to
            : base.Validate();
}

public sealed class AuditCommand(CliEnvironment env) : RegistryCommand<AuditSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, AuditSettings s, CancellationToken ct)
    {
        var query = new AuditQuery(s.Actor, s.Model, s.Types, s.From, s.To, s.Cursor, s.Limit);
        if (s.Export is { } format)
        {
            if (s.Out is null)
            {
                var buffer = new MemoryStream();
                await client.ExportAuditAsync(query, format, buffer, ct);
                await Env.Out.WriteAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
                return ExitCodes.Ok;
            }
            await using (var file = File.Create(s.Out)) await client.ExportAuditAsync(query, format, file, ct);
            Env.Error.WriteLine($"Wrote {new FileInfo(s.Out).Length} bytes to {s.Out}.");
            return ExitCodes.Ok;
        }

        return Show(s, await client.QueryAuditAsync(query, ct), page =>
        {
            var table = NewTable("Seq", "Time", "Model", "Version", "Event", "Actor", "Reason", "Summary");
            foreach (var e in page.Items)
                table.AddRow(Text(e.Sequence), Text(e.Timestamp), Text(e.ModelName), Text(e.Version), Text(e.EventType),
                    Text(e.Actor), Text(e.Reason), Text(e.Summary));
            Console.Write(table);
            Console.MarkupLine($"Complete through sequence {page.CompleteThrough} (lag {page.Lag}).");
            More(page.NextCursor);
        });
    }
}

public sealed class VerifySettings : GlobalSettings
{
    [CommandOption("--full")]
    [Description("Recompute the chain from its first link, not from the newest signed checkpoint.")]
    public bool Full { get; init; }
}

public sealed class VerifyCommand(CliEnvironment env) : RegistryCommand<VerifySettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, VerifySettings s, CancellationToken ct)
    {
        var verification = await client.VerifyAuditChainAsync(s.Full, ct);
        var covered = verification.Mode == "incremental" ? $"links after checkpoint {verification.FromSequence}" : "every link";
        Show(s, verification, v => Console.MarkupLine(v.Verified
            ? $"[green]Verified[/] ({Text(v.Mode)}, {covered}): {v.Events} events, head {Text(v.Head)} at sequence {v.HeadSequence}, {v.Checkpoints} checkpoints."
            : v.State == "incomplete"
                ? $"[yellow]Incomplete[/]: the chain does not reach event {Text(v.FirstUnchainedSequence)}: {Text(v.Problem)}"
                : $"[red]Broken[/] at sequence {Text(v.FirstBrokenSequence)}: {Text(v.Problem)}"));
        return verification.Verified ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
