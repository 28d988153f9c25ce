using System.ComponentModel;
using System.Globalization;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using EventSourcedRegistry.Contracts.V1.Requests;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public sealed class RegisterVersionSettings : ModelSettings
{
    [CommandOption("--artifact <FILE_OR_URI>")]
    [Description("A local file (uploaded first) or the URI of an external artifact (needs --sha256).")]
    public string Artifact { get; init; } = "";

    [CommandOption("--sha256 <HEX>")]
    [Description("The artifact's SHA-256 (64 hex digits, optionally sha256:-prefixed): required for a URI, checked by the server for a file.")]
    public string? Sha256 { get; init; }

    [CommandOption("--size <BYTES>")]
    public long? SizeBytes { get; init; }

    [CommandOption("--run-id <ID>")]
    public string? RunId { get; init; }

    [CommandOption("--commit <SHA>")]
    public string? Commit { get; init; }

    [CommandOption("--repository <URL>")]
    public string? Repository { get; init; }

    [CommandOption("--dataset <URI[@DIGEST]>")]
    [Description("A training dataset (repeatable).")]
    public string[]? Datasets { get; init; }

    [CommandOption("--metric <NAME=NUMBER>")]
    public string[]? Metrics { get; init; }

    [CommandOption("--param <KEY=VALUE>")]
    public string[]? Params { get; init; }

    [CommandOption("--tag <KEY=VALUE>")]
    public string[]? Tags { get; init; }

    [CommandOption("--description <TEXT>")]
    public string? Description { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Artifact) ? ValidationResult.Error("--artifact is required.")
        : CheckDigest(Sha256, "--sha256") is { Successful: false } bad ? bad
        : base.Validate();
}

public sealed class RegisterVersionCommand(CliEnvironment env) : RegistryCommand<RegisterVersionSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, RegisterVersionSettings s, CancellationToken ct)
    {
        ArtifactInput artifact;
        if (File.Exists(s.Artifact))
        {
            var uploaded = await ArtifactCommands.UploadAsync(Env, client, s.Artifact, s.Sha256, showProgress: !s.Json, ct);
            artifact = new ArtifactInput(null, uploaded.Sha256, null);
        }
        else if (Uri.TryCreate(s.Artifact, UriKind.Absolute, out _) && s.Artifact.Contains(':'))
        {
            if (s.Sha256 is null) throw new UsageException("An external artifact needs --sha256 (and preferably --size).");
            artifact = new ArtifactInput(s.Artifact, s.Sha256, s.SizeBytes);
        }
        else
        {
            throw new UsageException($"'{s.Artifact}' is neither an existing file nor an absolute URI.");
        }

        var metrics = Pairs(s.Metrics, "--metric")?.ToDictionary(p => p.Key, p =>
            double.TryParse(p.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                ? value : throw new UsageException($"Metric '{p.Key}' is not a number: '{p.Value}'."));
        var datasets = s.Datasets?.Select(d => d.LastIndexOf('@') is var at and > 0 ? new DatasetInput(d[..at], d[(at + 1)..]) : new DatasetInput(d)).ToList();
        var lineage = s.RunId is not null || s.Commit is not null || s.Repository is not null || datasets is not null
            ? new LineageInput(s.RunId, s.Repository, s.Commit, datasets) : null;

        var version = await client.RegisterVersionAsync(s.Model,
            new RegisterModelVersion(artifact, lineage, Pairs(s.Params, "--param"), metrics, Pairs(s.Tags, "--tag"), s.Description), ct: ct);
        return Show(s, version, v => ShowVersionCommand.Render(Console, v));
    }
}

public sealed class ListVersionsSettings : PointSettings, IPagedSettings
{
    [CommandOption("--stage <STAGE>")]
    public string? Stage { get; init; }

    [CommandOption("--limit <N>")]
    [Description("Read one page of at most N versions (default: every page).")]
    public int? Limit { get; init; }

    [CommandOption("--cursor <CURSOR>")]
    [Description("Read the page after an earlier answer's nextCursor.")]
    public string? Cursor { get; init; }
}

public sealed class ListVersionsCommand(CliEnvironment env) : RegistryCommand<ListVersionsSettings>(env)
{
    private static string? Short(string? digest) => digest is { Length: > 12 } ? digest[..12] : digest;

    protected override async Task<int> RunAsync(RegistryClient client, ListVersionsSettings s, CancellationToken ct)
    {
        var point = PointOf(s.AsOf, s.AtSequence);
        var (items, first, next) = await ReadPages(s, 1000, (cursor, limit) => client.ListVersionsAsync(s.Model, s.Stage, point, cursor, limit, ct),
            p => p.Items, p => p.NextCursor);

        return Show(s, first with { Items = items, NextCursor = next }, page =>
        {
            var table = NewTable("Version", "Stage", "Aliases", "Metrics", "Run", "Commit", "Artifact");
            foreach (var v in page.Items)
                table.AddRow(Text(v.Version), Text(v.Stage), Text(v.Aliases),
                    Text(string.Join(", ", v.Metrics.Select(m => $"{m.Key}={m.Value.ToString("G4", CultureInfo.InvariantCulture)}"))),
                    Text(v.Lineage?.RunId), Text(Short(v.Lineage?.SourceCommit)), Text(v.Artifact.Uri ?? Short(v.Artifact.Sha256)));
            Console.Write(table);
            More(page.NextCursor);
        });
    }
}

public class VersionSettings : PointSettings
{
    [CommandArgument(1, "<version>")]
    public int Version { get; init; }
}

public sealed class ShowVersionCommand(CliEnvironment env) : RegistryCommand<VersionSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, VersionSettings s, CancellationToken ct) =>
        Show(s, await client.GetVersionAsync(s.Model, s.Version, PointOf(s.AsOf, s.AtSequence), ct), v => Render(Console, v));

    public static void Render(IAnsiConsole console, ModelVersionInfo v)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]model[/]", Text(v.Model));
        grid.AddRow("[bold]version[/]", Text(v.Version));
        if (v.AsOfSequence is { } seq) grid.AddRow("[bold]as of sequence[/]", Text(seq));
        grid.AddRow("stage", Text(v.Stage));
        grid.AddRow("aliases", Text(v.Aliases));
        grid.AddRow("deployments", Text(v.Deployments));
        grid.AddRow("artifact", Text(v.Artifact.Uri ?? v.DownloadUrl));
        grid.AddRow("sha256", Text(v.Artifact.Sha256));
        grid.AddRow("run id", Text(v.Lineage?.RunId));
        grid.AddRow("commit", Text(v.Lineage?.SourceCommit));
        grid.AddRow("metrics", Text(v.Metrics));
        grid.AddRow("params", Text(v.Params));
        grid.AddRow("tags", Text(v.Tags));
        grid.AddRow("description", Text(v.Description));
        console.Write(grid);
    }
}

public sealed class StageSettings : ModelSettings
{
    [CommandArgument(1, "<version>")]
    public int Version { get; init; }

    [CommandArgument(2, "<stage>")]
    public string Stage { get; init; } = "";

    [CommandOption("--archive-existing")]
    [Description("Move the versions already in that stage to the archive stage.")]
    public bool ArchiveExisting { get; init; }

    [CommandOption("--reason <TEXT>")]
    public string? Reason { get; init; }
}

public sealed class StageCommand(CliEnvironment env) : RegistryCommand<StageSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, StageSettings s, CancellationToken ct) =>
        Show(s, await client.TransitionStageAsync(s.Model, s.Version, s.Stage, s.Reason, s.ArchiveExisting, ct: ct),
            v => Console.MarkupLine($"{Text(v.Model)} v{v.Version} is now in [bold]{Text(v.Stage)}[/]."));
}
