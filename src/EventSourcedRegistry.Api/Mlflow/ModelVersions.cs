using System.Globalization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Metadata;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Validation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// model-versions/create, get, update, transition-stage, delete, get-download-uri, set-tag and delete-tag. A version
/// registered from an MLflow <c>source</c> is an unverified reference: the URI as given, no digest (the registry never saw
/// its bytes), unless the source is an <c>mlflow-artifacts:</c> directory of the model on the registry's own store, whose
/// manifest digest it records (<see cref="MlflowArtifactsEndpoints.ReferenceOf"/>); run_id and run_link are its lineage.
/// </summary>
public static class ModelVersionsEndpoints
{
    public const int MaxSourceLength = 2048;

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/model-versions/create", OperationId = "MlflowCreateModelVersion")]
    [Api.Settings.PolicyConfirmedInCommand]
    public static async Task<IResult> Create(HttpContext http, ModelCommands commands, Lifecycle.Lifecycle lifecycle, RecordLimits limits, WorkspaceStore store)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Contributor);
        if (refused is not null) return refused;
        var source = request.String("source");
        if (string.IsNullOrEmpty(source)) return MlflowErrors.Missing("source");
        if (SourceProblem(source) is { } sourceProblem) return MlflowErrors.Error(MlflowErrors.InvalidParameterValue, sourceProblem);
        var (tags, badTags) = request.Tags();
        if (badTags is not null) return badTags;
        var runId = request.String("run_id");
        var runLink = request.String("run_link");
        var description = request.String("description");
        var errors = new List<(string Field, string Error)>();
        if (InputRules.CheckText(runId, 256, "A run_id") is { } r) errors.Add(("run_id", r));
        if (InputRules.CheckText(runLink, MaxSourceLength, "A run_link") is { } l) errors.Add(("run_link", l));
        if (InputRules.CheckText(description, InputRules.MaxDescriptionLength, "A description") is { } d) errors.Add(("description", d));
        errors.AddRange(InputRules.CheckTags(tags, "tags"));
        errors.AddRange(limits.CheckVersion(tags?.Count ?? 0, 0, 0, 0));
        if (errors.Count > 0) return RegisteredModelsEndpoints.Invalid(errors);

        // Files on the registry's own store are bound by their digest; any other source stays an unverified reference.
        var modelId = await commands.ModelIdOf(http.Workspace(), name, http.RequestAborted);
        var (artifact, files) = await MlflowArtifactsEndpoints.ReferenceOf(store, modelId, name, source, http.RequestAborted);
        var lineage = string.IsNullOrEmpty(runId) && string.IsNullOrEmpty(runLink)
            ? null
            : new Lineage(string.IsNullOrEmpty(runId) ? null : runId, null, null, null, string.IsNullOrEmpty(runLink) ? null : runLink);
        var (events, error) = await MlflowCommands.RunAsync(http, commands, name,
            async (model, session, ct) =>
            {
                // The native registration's rules (RegisterModelVersionEndpoint), metadata standards included.
                var decision = ModelDecisions.RegisterVersion(model, lifecycle, artifact, lineage, null, null, tags, description, null);
                if (decision.IsRejected) return decision;
                var registry = await Api.Settings.WorkspacePolicies.SettingsOf(http, session, ct);
                return MetadataStandard.MetadataRefusal(model.MetadataSchema, registry?.MetadataSchema, null) ?? decision;
            },
            () => MlflowErrors.ModelNotFound(name),
            beforeSave: files.Count == 0 ? null : (outcome, ct) => MlflowArtifactsEndpoints.Bind(outcome, files, ct));
        if (error is not null) return error;
        var registered = events.OfType<ModelVersionRegistered>().Single();
        return await Answer(http, name, registered.Version, withAliases: true);
    }

    /// <summary>
    /// MLflow's rules for a source given without a run's artifact store: an absolute URI with a scheme, no relative
    /// segments (<c>.</c>, <c>..</c>) that could step out of where it points; a local path is refused.
    /// </summary>
    public static string? SourceProblem(string source)
    {
        if (source.Length > MaxSourceLength) return $"Invalid model version source: a source has at most {MaxSourceLength} characters.";
        if (!Uri.TryCreate(source, UriKind.Absolute, out var parsed) || !source.StartsWith(parsed.Scheme + ":", StringComparison.OrdinalIgnoreCase)
            || parsed.IsFile)
            return $"Invalid model version source: '{Shown(source)}'. To use a local path as a model version source, the run_id request parameter " +
                   "has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.";
        var path = source[(parsed.Scheme.Length + 1)..].Split('?', '#')[0];
        if (path.Split('/').Any(segment => segment is "." or ".." || Uri.UnescapeDataString(segment) is "." or ".."))
            return $"Invalid model version source: '{Shown(source)}'. If supplying a source as an http, https, local file path, ftp, objectstore, " +
                   "or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.";
        return null;
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/model-versions/get", OperationId = "MlflowGetModelVersion")]
    public static async Task<IResult> Get(HttpContext http, ModelCommands commands)
    {
        var (request, name, number, problem) = await Read(http, commands, Roles.Reader);
        if (problem is not null) return problem;
        return await Answer(http, name, number, withAliases: true);
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/model-versions/get-download-uri", OperationId = "MlflowGetModelVersionDownloadUri")]
    public static async Task<IResult> GetDownloadUri(HttpContext http, ModelCommands commands, WorkspaceStore store)
    {
        var (request, name, number, problem) = await Read(http, commands, Roles.Reader);
        if (problem is not null) return problem;
        await using var session = store.QuerySession();
        var model = await session.FindModel(name, http.RequestAborted);
        var view = model is null ? null : await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), http.RequestAborted);
        if (view is null) return MlflowErrors.VersionNotFound(name, Shown(number));
        return MlflowJson.Ok(new { artifact_uri = MlflowShapes.SourceOf(view.Artifact) });
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePatch(MlflowRoutes.Prefix + "/model-versions/update", OperationId = "MlflowUpdateModelVersion")]
    public static async Task<IResult> Update(HttpContext http, ModelCommands commands)
    {
        var (request, name, number, problem) = await Read(http, commands, Roles.Contributor);
        if (problem is not null) return problem;
        var description = request!.String("description");
        if (InputRules.CheckText(description, InputRules.MaxDescriptionLength, "A description") is { } d) return RegisteredModelsEndpoints.Invalid([("description", d)]);
        return await Edit(http, commands, name, number, (current, model) =>
                   description is null ? Decision.Unchanged : ModelDecisions.EditVersion(model, number, description, null, null, null, current.Tags, current.Description))
               ?? await Answer(http, name, number, withAliases: true);
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/model-versions/set-tag", OperationId = "MlflowSetModelVersionTag")]
    public static async Task<IResult> SetTag(HttpContext http, ModelCommands commands, RecordLimits limits)
    {
        var (request, name, number, problem) = await Read(http, commands, Roles.Contributor);
        if (problem is not null) return problem;
        var key = request!.String("key");
        if (string.IsNullOrEmpty(key)) return MlflowErrors.Missing("key");
        var set = new Dictionary<string, string> { [key] = request.String("value") ?? "" };
        if (InputRules.CheckTags(set, "tags").ToList() is { Count: > 0 } errors) return RegisteredModelsEndpoints.Invalid(errors);
        var edited = await Edit(http, commands, name, number, (current, model) =>
            RecordLimits.CheckEditedTags(current.Tags, set, null, limits.MaxTagsPerVersion, nameof(RecordLimits.MaxTagsPerVersion), "a version") is { } tooMany
                ? RecordLimits.Refusal(tooMany)
                : ModelDecisions.EditVersion(model, number, null, set, null, null, current.Tags, current.Description));
        return edited ?? MlflowJson.Empty();
    }

    /// <summary>Deleting a tag the version does not have changes nothing and answers 200, as MLflow does.</summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineDelete(MlflowRoutes.Prefix + "/model-versions/delete-tag", OperationId = "MlflowDeleteModelVersionTag")]
    public static async Task<IResult> DeleteTag(HttpContext http, ModelCommands commands)
    {
        var (request, name, number, problem) = await Read(http, commands, Roles.Contributor);
        if (problem is not null) return problem;
        var key = request!.String("key");
        if (string.IsNullOrEmpty(key)) return MlflowErrors.Missing("key");
        var edited = await Edit(http, commands, name, number, (current, model) =>
            ModelDecisions.EditVersion(model, number, null, null, [key], null, current.Tags, current.Description));
        return edited ?? MlflowJson.Empty();
    }

    /// <summary>
    /// Moves a version along the workspace's lifecycle by the native rule, gates and four eyes included: a protected stage
    /// records a transition request and answers an error naming it (<see cref="RegisteredModelTagsAndAliasesEndpoints.ProtectedMove"/>).
    /// </summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/model-versions/transition-stage", OperationId = "MlflowTransitionModelVersionStage")]
    [Api.Settings.PolicyConfirmedInCommand]
    public static async Task<IResult> TransitionStage(HttpContext http, ModelCommands commands, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals,
        TimeProvider time)
    {
        var (request, name, number, problem) = await Read(http, commands, Roles.Contributor);
        if (problem is not null) return problem;
        var stage = request!.String("stage");
        if (string.IsNullOrEmpty(stage)) return MlflowErrors.Missing("stage");
        if (lifecycle.Resolve(stage) is null)
        {
            // A refusal by the policy: made only by a confirmed one (this node's copy may predate the stage).
            Api.Settings.PolicyResolution.Confirm(http);
            return InvalidStage(stage, lifecycle);
        }
        var archiveExisting = request.Bool("archive_existing_versions") ?? false;

        var requestId = Guid.CreateVersion7();
        var requester = AccessClaims.PrincipalOf(http.User)!;
        var (events, error) = await MlflowCommands.RunAsync(http, commands, name,
            async (model, session, ct) =>
            {
                if (!model.HasVersion(number)) return NotFoundDecision(name, number);
                var current = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct);
                var decision = ModelDecisions.TransitionStage(model, lifecycle, number, stage, null, archiveExisting, current);
                if (decision.IsRejected) return decision;
                return ApprovalDecisions.RequestStage(model, approvals, decision, number, archiveExisting, current!.Artifact.Sha256, requester, null,
                    requestId, time.GetUtcNow());
            },
            () => MlflowErrors.VersionNotFound(name, Shown(number)));
        if (error is not null) return error;
        return RegisteredModelTagsAndAliasesEndpoints.ProtectedMove(http, name, events, approvals) ?? await Answer(http, name, number, withAliases: true);
    }

    /// <summary>
    /// A version's recorded deletion (<see cref="ModelDecisions.DeleteVersion"/>), admin as natively; a version in a protected
    /// stage, holding a protected alias or deployed is refused with RESOURCE_CONFLICT.
    /// </summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineDelete(MlflowRoutes.Prefix + "/model-versions/delete", OperationId = "MlflowDeleteModelVersion")]
    public static async Task<IResult> Delete(HttpContext http, ModelCommands commands, ApprovalPolicy approvals)
    {
        var (_, name, number, problem) = await Read(http, commands, Roles.Admin);
        if (problem is not null) return problem;
        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            (model, _, _) => ValueTask.FromResult(model.HasVersion(number)
                ? ModelDecisions.DeleteVersion(model, approvals, number, null)
                : NotFoundDecision(name, number)),
            () => MlflowErrors.VersionNotFound(name, Shown(number)));
        return error ?? MlflowJson.Empty();
    }

    /// <summary>The request's fields, the model and version it names, or the refusal: a field missing, a version that is no number, the caller's role on that model.</summary>
    private static async Task<(MlflowRequest? Request, string Name, int Version, IResult? Problem)> Read(HttpContext http, ModelCommands commands, string role)
    {
        var (request, bad) = await MlflowRequest.ReadAsync(http);
        if (bad is not null) return (null, "", 0, bad);
        var name = request!.String("name");
        if (string.IsNullOrEmpty(name)) return (null, "", 0, MlflowErrors.Missing("name"));
        var (number, badVersion) = MlflowRequest.Version(request.String("version"));
        if (badVersion is not null) return (null, "", 0, badVersion);
        if (await MlflowAccess.Refusal(http, commands, role, name, () => MlflowErrors.VersionNotFound(name, Shown(number))) is { } refused)
            return (null, "", 0, refused);
        return (request, name, number, null);
    }

    private static async Task<IResult?> Edit(HttpContext http, ModelCommands commands, string name, int number, Func<ModelVersionView, ModelView, Decision> decide)
    {
        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            async (model, session, ct) =>
            {
                if (!model.HasVersion(number)) return NotFoundDecision(name, number);
                var current = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct);
                return current is null ? NotFoundDecision(name, number) : decide(current, model);
            },
            () => MlflowErrors.VersionNotFound(name, Shown(number)));
        return error;
    }

    private static Decision NotFoundDecision(string name, int number) =>
        Decision.Reject(RejectionKind.NotFound, "Version not found", $"Model Version (name={name}, version={Shown(number)}) not found");

    internal static IResult InvalidStage(string stage, Lifecycle.Lifecycle lifecycle) =>
        MlflowErrors.Error(MlflowErrors.InvalidParameterValue,
            $"Invalid Model Version stage: {Shown(stage)}. Value must be one of {string.Join(", ", lifecycle.Stages)}.");

    internal static async Task<IResult> Answer(HttpContext http, string name, int number, bool withAliases)
    {
        await using var session = http.RequestServices.GetRequiredService<WorkspaceStore>().QuerySession();
        var model = await session.FindModel(name, http.RequestAborted);
        if (model is null) return MlflowErrors.VersionNotFound(name, Shown(number));
        return await Answer(session, model, number, http.RequestAborted, withAliases);
    }

    internal static async Task<IResult> Answer(IQuerySession session, ModelView model, int number, CancellationToken ct, bool withAliases = true)
    {
        var view = model.HasVersion(number) ? await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct) : null;
        if (view is null) return MlflowErrors.VersionNotFound(model.Name, Shown(number));
        var times = await MlflowTimes.LoadAsync(session, model, [number], ct);
        return MlflowJson.Ok(new { model_version = MlflowShapes.Version(model.Name, view, times, withAliases) });
    }

    private static string Shown(int number) => number.ToString(CultureInfo.InvariantCulture);

    private static string Shown(string text) => text.Length > 80 ? text[..80] + "…" : text;
}
