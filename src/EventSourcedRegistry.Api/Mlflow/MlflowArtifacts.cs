using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Artifacts.Downloading;
using EventSourcedRegistry.Api.Artifacts.Uploading;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Mlflow;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using JasperFx;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// MLflow's artifact proxy, which an <c>mlflow-artifacts:/&lt;path&gt;</c> URI names: list a directory, download and upload a
/// file. Each file's bytes go into the workspace's content-addressed store (deduplicated there, counted by its quota, as a
/// native upload); the path → SHA-256 map is an <see cref="MlflowArtifactFile"/> document of the workspace, write-once.
/// A path's first segment names the registered model it belongs to (<see cref="MlflowArtifactPaths"/>): uploading needs
/// contributor, reading reader, registry-wide or for that model; a caller without even reader on it gets exactly the
/// answer of a path with nothing there. A download is verified against the file's SHA-256 as it streams.
/// </summary>
public static class MlflowArtifactsEndpoints
{
    private const string Route = MlflowRoutes.ArtifactsPrefix + "/artifacts";

    public sealed record ArtifactFileInfo(string Path, bool IsDir, long? FileSize);

    /// <summary><c>GET …/artifacts?path=&lt;dir&gt;</c>: the directory's files and subdirectories by name; <c>{}</c> when there are none.</summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(Route, OperationId = "MlflowListArtifacts")]
    public static async Task<IResult> List(HttpContext http, ModelCommands commands, WorkspaceStore store)
    {
        var path = http.Request.Query["path"].ToString().TrimEnd('/');
        if (MlflowArtifactPaths.Problem(path) is { } problem) return Invalid(problem);
        // Nothing there and not to be seen answer alike: the reference server lists a missing directory as {}.
        if (await MlflowAccess.Refusal(http, commands, Roles.Reader, MlflowArtifactPaths.ModelOf(path), () => MlflowJson.Empty()) is { } refused)
            return refused;

        await using var session = store.QuerySession();
        var below = (await Below(session, path, http.RequestAborted)).Where(f => MayRead(http, f)).ToList();
        var files = below.Where(f => f.Directory == path).Select(f => new ArtifactFileInfo(f.Name, false, f.SizeBytes));
        var directories = below.Where(f => f.Directory != path)
            .Select(f => f.Directory[(path.Length + 1)..].Split('/')[0]).Distinct(StringComparer.Ordinal)
            .Select(d => new ArtifactFileInfo(d, true, null));
        var listed = files.Concat(directories).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        return listed.Count == 0 ? MlflowJson.Empty() : MlflowJson.Ok(new { files = listed });
    }

    /// <summary><c>GET …/artifacts/&lt;path&gt;</c>: the file's bytes, hashed as they stream; bytes that miss the recorded SHA-256 are never served complete.</summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(Route + "/{*path}", OperationId = "MlflowDownloadArtifact")]
    public static async Task<IResult> Download(HttpContext http, ModelCommands commands, WorkspaceStore store, IArtifactStore artifacts)
    {
        var (path, bad) = PathOf(http);
        if (bad is not null) return bad;
        await using var session = store.QuerySession();
        var file = await session.LoadAsync<MlflowArtifactFile>(path, http.RequestAborted);
        // A bound file is authorized against its own model, an unbound one (or none) against the model of the path's name.
        if (await MlflowAccess.Refusal(http, commands, Roles.Reader, MlflowArtifactPaths.ModelOf(path), () => NoSuchFile(path), file?.ModelId) is { } refused)
            return refused;
        if (file is null) return NoSuchFile(path);
        if (await artifacts.GetInfoAsync(file.Sha256, http.RequestAborted) is not { } info)
            return MlflowErrors.Error(MlflowErrors.InternalError, $"The stored bytes of artifact '{path}' (SHA-256 {file.Sha256}) are missing; it is not served.");
        return new DownloadArtifactEndpoint.VerifiedDownload(artifacts, info, file.Name);
    }

    /// <summary>
    /// <c>PUT …/artifacts/&lt;path&gt;</c> with the raw bytes: stored and mapped to the path, <c>{}</c>. A path keeps its first
    /// bytes: the same bytes again answer <c>{}</c> (a retried upload), others <c>RESOURCE_ALREADY_EXISTS</c> and are not kept.
    /// </summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [OpaqueBody]
    [WolverinePut(Route + "/{*path}", OperationId = "MlflowUploadArtifact")]
    public static async Task<IResult> Upload(HttpContext http, ModelCommands commands, WorkspaceStore store, IArtifactStore artifacts,
        ArtifactSettings settings, ArtifactQuota quota, WorkspaceLimits limits, TimeProvider time)
    {
        var ct = http.RequestAborted;
        var (path, bad) = PathOf(http);
        if (bad is not null) return bad;
        if (await MlflowAccess.Refusal(http, commands, Roles.Contributor, MlflowArtifactPaths.ModelOf(path), () => NoSuchFile(path)) is { } refused)
            return refused;

        await using var session = store.LightweightSession();
        var existing = await session.LoadAsync<MlflowArtifactFile>(path, ct);
        // Onto a taken path only the same bytes are accepted: declared as expected, other bytes are hashed and dropped.
        var (stored, refusedIntake) = await UploadArtifactEndpoint.Intake(http, artifacts, settings, quota, limits, existing?.Sha256);
        if (refusedIntake is not null)
            return existing is not null && refusedIntake is IStatusCodeHttpResult { StatusCode: StatusCodes.Status422UnprocessableEntity } ? Taken(path) : refusedIntake;
        if (existing is not null) return MlflowJson.Empty();

        session.Insert(new MlflowArtifactFile
        {
            Id = path, Directory = MlflowArtifactPaths.DirectoryOf(path), Sha256 = stored!.Sha256, SizeBytes = stored.SizeBytes,
            UploadedBy = Callers.Of(http.User) ?? "", UploadedAt = time.GetUtcNow(),
            ModelId = await commands.ModelIdOf(http.Workspace(), MlflowArtifactPaths.ModelOf(path), ct),
        });
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (DocumentAlreadyExistsException)
        {
            // Another upload of the same path won the race: same bytes are this upload's success, others are refused.
            await using var fresh = store.QuerySession();
            var winner = await fresh.LoadAsync<MlflowArtifactFile>(path, ct);
            if (winner?.Sha256 != stored.Sha256) return Taken(path);
        }
        return MlflowJson.Empty();
    }

    /// <summary>
    /// What a version registered with <paramref name="source"/> records: for an <c>mlflow-artifacts:</c> directory of the model's
    /// own on this store (its first segment is <paramref name="modelName"/>) that holds files, a verified reference whose digest is
    /// the manifest's (<see cref="MlflowArtifactPaths.ManifestDigest"/>); for any other source, the unverified URI.
    /// Only the model's own paths: binding another model's files would show whether they exist.
    /// </summary>
    /// <remarks>
    /// Files bound to another model (<see cref="MlflowArtifactFile.ModelId"/>: a model that had this name before a rename or a
    /// deletion) are not this model's: a directory holding any stays an unverified reference. <see cref="Bind"/> binds the
    /// rest to the model in the registration's transaction.
    /// </remarks>
    public static async Task<(ArtifactReference Reference, IReadOnlyList<string> Files)> ReferenceOf(WorkspaceStore store, Guid? modelId,
        string modelName, string source, CancellationToken ct)
    {
        var unverified = new ArtifactReference(source, "", null);
        if (MlflowArtifactPaths.PathOf(source) is not { } path) return (unverified, []);
        if (InputRules.NormalizeName(MlflowArtifactPaths.ModelOf(path)) != InputRules.NormalizeName(modelName)) return (unverified, []);
        await using var session = store.QuerySession();
        var files = await Below(session, path, ct);
        if (files.Count == 0 || files.Any(f => f.ModelId is { } owner && owner != modelId)) return (unverified, []);
        var digest = MlflowArtifactPaths.ManifestDigest(files.Select(f => (f.Id[(path.Length + 1)..], f.Sha256)));
        return (new ArtifactReference(source, digest, files.Sum(f => f.SizeBytes), Verified: true), files.Select(f => f.Id).ToList());
    }

    /// <summary>Binds the files a version was just registered on to its model, in the registration's session.</summary>
    public static async ValueTask Bind(CommandOutcome outcome, IReadOnlyList<string> files, CancellationToken ct)
    {
        foreach (var id in files)
        {
            if (await outcome.Session.LoadAsync<MlflowArtifactFile>(id, ct) is not { ModelId: null } file) continue;
            file.ModelId = outcome.After.Id;
            outcome.Session.Store(file);
        }
    }

    /// <summary>Whether a listing shows the file: one bound to a model the caller may not read is left out (see <see cref="MlflowArtifactFile.ModelId"/>).</summary>
    private static bool MayRead(HttpContext http, MlflowArtifactFile file)
    {
        if (file.ModelId is not { } owner || MlflowAccess.ReadsEverything(http)) return true;
        var (ids, names) = MlflowAccess.Readable(http);
        return ids.Contains(owner) || names.Contains(InputRules.NormalizeName(MlflowArtifactPaths.ModelOf(file.Id)));
    }

    /// <summary>Every file under a directory, at any depth.</summary>
    private static async Task<IReadOnlyList<MlflowArtifactFile>> Below(IQuerySession session, string path, CancellationToken ct)
    {
        var prefix = path + "/";
        var found = await session.Query<MlflowArtifactFile>()
            .Where(f => f.Directory == path || f.Directory.StartsWith(prefix)).ToListAsync(ct);
        // Checked again ordinally: the query's pattern is not trusted with '_' or case.
        return found.Where(f => f.Id.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }

    /// <summary>The file path after <c>…/artifacts/</c>, or the refusal of a hostile one; nothing is looked up before this.</summary>
    private static (string Path, IResult? Problem) PathOf(HttpContext http)
    {
        var full = http.Request.Path.Value ?? "";
        var path = full.Length > Route.Length + 1 ? full[(Route.Length + 1)..] : "";
        return MlflowArtifactPaths.Problem(path) is { } problem ? ("", Invalid(problem)) : (path, null);
    }

    private static IResult Invalid(string problem) => MlflowErrors.Error(MlflowErrors.InvalidParameterValue, $"Invalid path: {problem}");

    private static IResult NoSuchFile(string path) =>
        MlflowErrors.Error(MlflowErrors.ResourceDoesNotExist, $"No artifact at path '{Shown(path)}'.");

    private static IResult Taken(string path) =>
        MlflowErrors.Error(MlflowErrors.ResourceAlreadyExists,
            $"Artifact '{Shown(path)}' holds other bytes; an artifact path keeps the bytes it was first given. Upload to a new path.");

    private static string Shown(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
