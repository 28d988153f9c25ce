using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EventSourcedRegistry.Cli.Commands;

public sealed class UploadSettings : GlobalSettings
{
    [CommandArgument(0, "<file>")]
    public string File { get; init; } = "";

    [CommandOption("--sha256 <HEX>")]
    [Description("The digest you expect (64 hex digits, optionally sha256:-prefixed); the server refuses the bytes if they hash otherwise.")]
    public string? Sha256 { get; init; }

    public override ValidationResult Validate() => CheckDigest(Sha256, "--sha256") is { Successful: false } bad ? bad : base.Validate();
}

public sealed class UploadArtifactCommand(CliEnvironment env) : RegistryCommand<UploadSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, UploadSettings s, CancellationToken ct) =>
        Show(s, await ArtifactCommands.UploadAsync(Env, client, s.File, s.Sha256, showProgress: !s.Json, ct),
            a => Console.MarkupLine($"Stored {a.SizeBytes} bytes as [bold]{Text(a.Sha256)}[/] ({Text(a.Uri)})."));
}

public sealed class DownloadSettings : GlobalSettings
{
    [CommandArgument(0, "<sha256>")]
    public string Sha256 { get; init; } = "";

    [CommandOption("--out <FILE>")]
    [Description("Where to write it (default: the digest as the file name).")]
    public string? Out { get; init; }

    public override ValidationResult Validate() => CheckDigest(Sha256, "<sha256>") is { Successful: false } bad ? bad : base.Validate();
}

public sealed class DownloadArtifactCommand(CliEnvironment env) : RegistryCommand<DownloadSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, DownloadSettings s, CancellationToken ct)
    {
        // The canonical digest (checked in Validate), so sha256:<HEX> and <hex> name the same file.
        var path = s.Out ?? Sha256Digest.Parse(s.Sha256);
        var size = await client.GetArtifactSizeAsync(s.Sha256, ct)
            ?? throw new RegistryRequestException(404, "Artifact not found", $"No artifact {s.Sha256} is stored.", null, null, null);
        var partial = path + ".partial";
        long written;
        await using (var file = File.Create(partial))
        {
            written = s.Json
                ? await client.DownloadArtifactAsync(s.Sha256, file, ct: ct)
                : await ArtifactCommands.WithProgress(Env, $"Downloading {s.Sha256[..Math.Min(12, s.Sha256.Length)]}", size,
                    progress => client.DownloadArtifactAsync(s.Sha256, file, progress, ct));
        }
        File.Move(partial, path, overwrite: true);
        return Show(s, new { sha256 = s.Sha256, sizeBytes = written, path = Path.GetFullPath(path) },
            _ => Console.MarkupLine($"Wrote {written} bytes to {Text(path)}."));
    }
}

public sealed class VerifyArtifactSettings : GlobalSettings
{
    [CommandArgument(0, "<sha256>")]
    public string Sha256 { get; init; } = "";

    public override ValidationResult Validate() => CheckDigest(Sha256, "<sha256>") is { Successful: false } bad ? bad : base.Validate();
}

public sealed class VerifyArtifactCommand(CliEnvironment env) : RegistryCommand<VerifyArtifactSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, VerifyArtifactSettings s, CancellationToken ct)
    {
        var verification = await client.VerifyArtifactAsync(s.Sha256, ct);
        Show(s, verification, v => Console.MarkupLine(v.Verified
            ? $"[green]Verified[/]: {v.SizeBytes} bytes hash to {Text(v.Sha256)}."
            : $"[red]Corrupt[/]: the stored bytes hash to {Text(v.ActualSha256)} ({v.ActualSizeBytes} bytes)."));
        return verification.Verified ? ExitCodes.Ok : ExitCodes.Failed;
    }
}

public static class ArtifactCommands
{
    public static async Task<ArtifactInfo> UploadAsync(CliEnvironment env, RegistryClient client, string path, string? sha256,
        bool showProgress, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new UsageException($"No file '{path}'.");
        await using var file = File.OpenRead(path);
        var name = Path.GetFileName(path);
        return showProgress
            ? await WithProgress(env, $"Uploading {name}", file.Length, progress => client.UploadArtifactAsync(file, name, sha256, progress, ct))
            : await client.UploadArtifactAsync(file, name, sha256, null, ct);
    }

    /// <summary>Runs a transfer under a Spectre progress bar fed by the client's byte count.</summary>
    public static Task<T> WithProgress<T>(CliEnvironment env, string description, long total, Func<IProgress<long>, Task<T>> transfer) =>
        env.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                var result = await transfer(new Progress(task));
                task.Value = task.MaxValue;
                return result;
            });

    private sealed class Progress(ProgressTask task) : IProgress<long>
    {
        public void Report(long value) => task.Value = value;
    }
}
