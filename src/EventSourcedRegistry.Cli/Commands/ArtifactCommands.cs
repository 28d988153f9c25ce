using System.ComponentModel;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
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
    [CommandArgument(0, "<artifact>")]
    [Description("A digest, a model's alias (churn@champion) or a model version (churn/3).")]
    public string Artifact { get; init; } = "";

    [CommandOption("--out <FILE>")]
    [Description("Where to write it (default: the digest as the file name).")]
    public string? Out { get; init; }

    // A name@alias or name/version is resolved through the API; anything else must be a digest, checked before sending.
    public override ValidationResult Validate() =>
        Artifact.Contains('@') || Artifact.Contains('/') ? base.Validate()
        : CheckDigest(Artifact, "<artifact>") is { Successful: false } bad ? bad : base.Validate();
}

/// <summary>
/// Downloads an artifact named by its digest, or by the model version or alias that holds it (resolved through the API
/// to the digest recorded in the version's registration). The bytes are hashed as they arrive and kept only if they
/// hash to that digest: they are written beside the target and moved into place after the check.
/// </summary>
public sealed class DownloadArtifactCommand(CliEnvironment env) : RegistryCommand<DownloadSettings>(env)
{
    protected override async Task<int> RunAsync(RegistryClient client, DownloadSettings s, CancellationToken ct)
    {
        var (sha256, version) = await ResolveAsync(client, s.Artifact, ct);
        var path = s.Out ?? sha256;
        var size = await client.GetArtifactSizeAsync(sha256, ct)
            ?? throw new RegistryRequestException(404, "Artifact not found", $"No artifact {sha256} is stored.", null, null, null);
        var partial = path + ".partial";
        long written;
        try
        {
            await using (var file = File.Create(partial))
            {
                written = s.Json
                    ? await client.DownloadArtifactAsync(sha256, file, ct: ct)
                    : await ArtifactCommands.WithProgress(Env, $"Downloading {sha256[..Math.Min(12, sha256.Length)]}", size,
                        progress => client.DownloadArtifactAsync(sha256, file, progress, ct));
            }
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            // Bytes that failed the check, or a transfer cut short, are never left where they could be taken for the artifact.
            if (File.Exists(partial)) File.Delete(partial);
        }
        return Show(s, new DownloadedArtifact(sha256, written, Path.GetFullPath(path), version?.Model, version?.Version),
            d => Console.MarkupLine($"Wrote {written} bytes to {Text(path)}"
                                    + (d.Model is null ? "" : $" ({Text(d.Model)} v{d.Version})") + $"; they hash to {Text(sha256)}."));
    }

    /// <summary><c>name@alias</c> and <c>name/version</c> through the API (model names hold neither '@' nor '/'); anything else is a digest.</summary>
    private static async Task<(string Sha256, ModelVersionInfo? Version)> ResolveAsync(RegistryClient client, string artifact, CancellationToken ct)
    {
        ModelVersionInfo version;
        if (artifact.IndexOf('@') is var at and >= 0)
        {
            if (at == 0 || at == artifact.Length - 1) throw new UsageException($"'{artifact}' is not name@alias, e.g. churn@champion.");
            version = await client.ResolveAliasAsync(artifact[..at], artifact[(at + 1)..], ct: ct);
        }
        else if (artifact.IndexOf('/') is var slash and >= 0)
        {
            if (slash == 0 || !int.TryParse(artifact.AsSpan(slash + 1), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var number))
                throw new UsageException($"'{artifact}' is not name/version, e.g. churn/3.");
            version = await client.GetVersionAsync(artifact[..slash], number, ct: ct);
        }
        else return (Sha256Digest.Parse(artifact), null);   // <hex> or sha256:<hex>, checked in Validate

        if (version.Artifact.Uri is { } uri)
            throw new RegistryRequestException(404, "External artifact",
                $"{version.Model} v{version.Version}'s artifact is external ({uri}): the registry holds no bytes for it. " +
                $"Fetch it from there and check that it hashes to {version.Artifact.Sha256}.", null, null, null);
        return (version.Artifact.Sha256, version);
    }
}

/// <summary><c>artifacts download</c>'s answer; <c>model</c> and <c>version</c> when it was named through them.</summary>
public sealed record DownloadedArtifact(string Sha256, long SizeBytes, string Path, string? Model = null, int? Version = null);

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
