using System.Globalization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>registered-models/set-tag, delete-tag, alias (POST, DELETE, GET) and get-latest-versions.</summary>
public static class RegisteredModelTagsAndAliasesEndpoints
{
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/registered-models/set-tag", OperationId = "MlflowSetRegisteredModelTag")]
    public static async Task<IResult> SetTag(HttpContext http, ModelCommands commands, RecordLimits limits)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Contributor);
        if (refused is not null) return refused;
        var key = request.String("key");
        if (string.IsNullOrEmpty(key)) return MlflowErrors.Missing("key");
        var set = new Dictionary<string, string> { [key] = request.String("value") ?? "" };
        if (InputRules.CheckTags(set, "tags").ToList() is { Count: > 0 } errors) return RegisteredModelsEndpoints.Invalid(errors);

        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            (model, _, _) => ValueTask.FromResult(
                RecordLimits.CheckEditedTags(model.Tags, set, null, limits.MaxTagsPerModel, nameof(RecordLimits.MaxTagsPerModel), "a model") is { } tooMany
                    ? Decision.Invalid(tooMany.Error)
                    : ModelDecisions.EditMetadata(model, null, set, null)),
            () => MlflowErrors.ModelNotFound(name));
        return error ?? MlflowJson.Empty();
    }

    /// <summary>Deleting a tag the model does not have changes nothing and answers 200, as MLflow does.</summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineDelete(MlflowRoutes.Prefix + "/registered-models/delete-tag", OperationId = "MlflowDeleteRegisteredModelTag")]
    public static async Task<IResult> DeleteTag(HttpContext http, ModelCommands commands)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Contributor);
        if (refused is not null) return refused;
        var key = request.String("key");
        if (string.IsNullOrEmpty(key)) return MlflowErrors.Missing("key");

        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            (model, _, _) => ValueTask.FromResult(ModelDecisions.EditMetadata(model, null, null, [key])),
            () => MlflowErrors.ModelNotFound(name));
        return error ?? MlflowJson.Empty();
    }

    /// <summary>
    /// Points an alias at a version. A protected alias (four eyes) cannot move in one call: the transition request is
    /// recorded and the answer is an error naming it (<see cref="ProtectedMove"/>).
    /// </summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/registered-models/alias", OperationId = "MlflowSetRegisteredModelAlias")]
    public static async Task<IResult> SetAlias(HttpContext http, ModelCommands commands, ApprovalPolicy approvals, TimeProvider time)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Contributor);
        if (refused is not null) return refused;
        var alias = request.String("alias");
        if (string.IsNullOrEmpty(alias)) return MlflowErrors.Missing("alias");
        var (number, badVersion) = MlflowRequest.Version(request.String("version"));
        if (badVersion is not null) return badVersion;
        if (alias.Equals("latest", StringComparison.OrdinalIgnoreCase))
            return MlflowErrors.Error(MlflowErrors.InvalidParameterValue, "'latest' alias name (case insensitive) is reserved.");
        if (InputRules.IsReservedAlias(alias)) return MlflowErrors.Error(MlflowErrors.InvalidParameterValue, $"Version alias name '{alias}' is reserved.");
        if (InputRules.CheckAlias(alias) is { } e) return RegisteredModelsEndpoints.Invalid([("alias", e)]);

        var requestId = Guid.CreateVersion7();
        var requester = AccessClaims.PrincipalOf(http.User)!;
        var (events, error) = await MlflowCommands.RunAsync(http, commands, name,
            async (model, session, ct) =>
            {
                // MLflow names the version in its 404, not the registry's words.
                if (!model.HasVersion(number)) return Decision.Reject(RejectionKind.NotFound, "Version not found", $"Model Version (name={name}, version={number}) not found");
                var decision = ModelDecisions.AssignAlias(model, alias, number);
                if (decision.IsRejected || !approvals.ProtectsAlias(alias) || decision.Events.Count == 0) return decision;
                var version = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct);
                return ApprovalDecisions.RequestAlias(model, approvals, decision, version!.Artifact.Sha256, requester, null, requestId, time.GetUtcNow());
            },
            () => MlflowErrors.ModelNotFound(name));
        if (error is not null) return error;
        return ProtectedMove(http, name, events, approvals) ?? MlflowJson.Empty();
    }

    /// <summary>Deleting an alias the model does not have changes nothing and answers 200, as MLflow does.</summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineDelete(MlflowRoutes.Prefix + "/registered-models/alias", OperationId = "MlflowDeleteRegisteredModelAlias")]
    public static async Task<IResult> DeleteAlias(HttpContext http, ModelCommands commands)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Contributor);
        if (refused is not null) return refused;
        var alias = request.String("alias");
        if (string.IsNullOrEmpty(alias)) return MlflowErrors.Missing("alias");

        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            (model, _, _) => ValueTask.FromResult(model.Aliases.ContainsKey(InputRules.NormalizeAlias(alias))
                ? ModelDecisions.RemoveAlias(model, alias)
                : Decision.Unchanged),
            () => MlflowErrors.ModelNotFound(name));
        return error ?? MlflowJson.Empty();
    }

    /// <summary>An unknown alias is MLflow's 400 INVALID_PARAMETER_VALUE (not 404), as its server answers.</summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/registered-models/alias", OperationId = "MlflowGetModelVersionByAlias")]
    public static async Task<IResult> GetAlias(HttpContext http, ModelCommands commands, WorkspaceStore store)
    {
        var name = http.Request.Query["name"].LastOrDefault();
        if (string.IsNullOrEmpty(name)) return MlflowErrors.Missing("name");
        var alias = http.Request.Query["alias"].LastOrDefault();
        if (string.IsNullOrEmpty(alias)) return MlflowErrors.Missing("alias");
        if (await MlflowAccess.Refusal(http, commands, Roles.Reader, name, () => MlflowErrors.ModelNotFound(name)) is { } refused) return refused;

        var ct = http.RequestAborted;
        await using var session = store.QuerySession();
        var model = await session.FindModel(name, ct);
        if (model is null) return MlflowErrors.ModelNotFound(name);
        if (!model.Aliases.TryGetValue(InputRules.NormalizeAlias(alias), out var number))
            return MlflowErrors.Error(MlflowErrors.InvalidParameterValue, $"Registered model alias {alias} not found.");
        return await ModelVersionsEndpoints.Answer(session, model, number, ct);
    }

    /// <summary>POST as the client sends it first; GET as its fallback after ENDPOINT_NOT_FOUND.</summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/registered-models/get-latest-versions", OperationId = "MlflowGetLatestVersions")]
    public static Task<IResult> LatestVersionsPost(HttpContext http, ModelCommands commands, WorkspaceStore store, Lifecycle.Lifecycle lifecycle) =>
        LatestVersions(http, commands, store, lifecycle);

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/registered-models/get-latest-versions", OperationId = "MlflowGetLatestVersionsByGet")]
    public static Task<IResult> LatestVersionsGet(HttpContext http, ModelCommands commands, WorkspaceStore store, Lifecycle.Lifecycle lifecycle) =>
        LatestVersions(http, commands, store, lifecycle);

    private static async Task<IResult> LatestVersions(HttpContext http, ModelCommands commands, WorkspaceStore store, Lifecycle.Lifecycle lifecycle)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Reader);
        if (refused is not null) return refused;
        var stages = new List<string>();
        foreach (var stage in request.Strings("stages"))
        {
            if (lifecycle.Resolve(stage) is not { } canonical) return ModelVersionsEndpoints.InvalidStage(stage, lifecycle);
            stages.Add(canonical);
        }

        var ct = http.RequestAborted;
        await using var session = store.QuerySession();
        var model = await session.FindModel(name, ct);
        if (model is null) return MlflowErrors.ModelNotFound(name);
        var latest = model.VersionsByStage.Where(s => stages.Count == 0 || stages.Contains(s.Key)).Select(s => s.Value[^1]).Order().ToList();
        if (latest.Count == 0) return MlflowJson.Empty();
        var times = await MlflowTimes.LoadAsync(session, model, latest, ct);
        var views = await session.LoadManyAsync<ModelVersionView>(ct, latest.Select(v => ModelVersionView.Key(model.Id, v)).ToArray());
        return MlflowJson.Ok(new { model_versions = views.OrderBy(v => v.VersionNumber).Select(v => MlflowShapes.Version(model.Name, v, times, withAliases: true)).ToList() });
    }

    /// <summary>
    /// A move into a protected stage or alias recorded a transition request instead of moving: MLflow has no "accepted,
    /// pending" answer, and a 200 would tell the pipeline the move happened. So the answer is an error (409
    /// RESOURCE_CONFLICT, which the client does not retry) naming the request and how an approver completes it.
    /// </summary>
    internal static IResult? ProtectedMove(HttpContext http, string name, IReadOnlyList<object> events, ApprovalPolicy approvals)
    {
        if (events.OfType<TransitionRequested>().FirstOrDefault() is not { } requested) return null;
        var link = WorkspaceAddressing.Link(http, $"/api/v1/models/{Uri.EscapeDataString(name)}/requests/{requested.RequestId}");
        return MlflowErrors.Error(MlflowErrors.ResourceConflict,
            $"Moving version {requested.Version.ToString(CultureInfo.InvariantCulture)} of '{name}' to '{requested.Target}' needs " +
            $"{approvals.RequiredApprovals} approval(s) from other owners (four eyes): transition request {requested.RequestId} is recorded " +
            $"and pending. An approver approves it with POST {link}/approve; the move happens with the last approval. See it at GET {link}.");
    }
}
