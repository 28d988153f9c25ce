using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using JasperFx;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// registered-models/create, get, update, rename and delete. Every write is the native command's rule
/// (<see cref="ModelDecisions"/>) on the same stream, so history, audit and as-of reads show it like a native call.
/// Authorization: any authenticated member passes the policy; the endpoint applies the role check of the model it names
/// (<see cref="MlflowAccess"/>). MLflow's routes stay out of the OpenAPI document, which describes <c>/api/v1</c>: MLflow's
/// REST API reference describes them.
/// </summary>
public static class RegisteredModelsEndpoints
{
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/registered-models/create", OperationId = "MlflowCreateRegisteredModel")]
    public static async Task<IResult> Create(HttpContext http, WorkspaceStore store, RecordLimits limits)
    {
        var (request, bad) = await MlflowRequest.ReadAsync(http);
        if (bad is not null) return bad;
        if (MlflowAccess.NameClaimRefusal(http) is { } denied) return denied;
        var name = request!.String("name");
        if (string.IsNullOrEmpty(name)) return MlflowErrors.Missing("name");
        var (tags, badTags) = request.Tags();
        if (badTags is not null) return badTags;
        var description = request.String("description");
        var errors = new List<(string Field, string Error)>();
        if (InputRules.CheckModelName(name) is { } e) errors.Add(("name", e));
        if (InputRules.CheckText(description, InputRules.MaxDescriptionLength, "A description") is { } d) errors.Add(("description", d));
        errors.AddRange(InputRules.CheckTags(tags, "tags"));
        if (limits.CheckModelTags(tags?.Count ?? 0) is { } tooMany) errors.Add(tooMany);
        if (errors.Count > 0) return Invalid(errors);

        var ct = http.RequestAborted;
        var normalized = InputRules.NormalizeName(name);
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<ModelNameIndex>(normalized, ct) is not null) return AlreadyExists(name);
        CommandContext.For(http, reason: null).ApplyTo(session);

        // The native registration's own start: the stream and its name claim in one transaction.
        Models.Registering.RegisterModelEndpoint.Start(session, name, description, tags);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (Models.Registering.RegisterModelEndpoint.IsNameTaken(ex))
        {
            return AlreadyExists(name);
        }
        return await Answer(http, name, ct);
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineGet(MlflowRoutes.Prefix + "/registered-models/get", OperationId = "MlflowGetRegisteredModel")]
    public static async Task<IResult> Get(HttpContext http, ModelCommands commands)
    {
        var name = http.Request.Query["name"].LastOrDefault();
        if (string.IsNullOrEmpty(name)) return MlflowErrors.Missing("name");
        if (await MlflowAccess.Refusal(http, commands, Roles.Reader, name, () => MlflowErrors.ModelNotFound(name)) is { } refused) return refused;
        return await Answer(http, name, http.RequestAborted);
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePatch(MlflowRoutes.Prefix + "/registered-models/update", OperationId = "MlflowUpdateRegisteredModel")]
    public static async Task<IResult> Update(HttpContext http, ModelCommands commands)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Contributor);
        if (refused is not null) return refused;
        // MLflow's update sets the description; an absent one leaves it as it is.
        var description = request.String("description");
        if (InputRules.CheckText(description, InputRules.MaxDescriptionLength, "A description") is { } d) return Invalid([("description", d)]);

        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            (model, _, _) => ValueTask.FromResult(description is null ? Decision.Unchanged : ModelDecisions.EditMetadata(model, description, null, null)),
            () => MlflowErrors.ModelNotFound(name));
        return error ?? await Answer(http, name, http.RequestAborted);
    }

    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverinePost(MlflowRoutes.Prefix + "/registered-models/rename", OperationId = "MlflowRenameRegisteredModel")]
    public static async Task<IResult> Rename(HttpContext http, ModelCommands commands)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Contributor);
        if (refused is not null) return refused;
        if (MlflowAccess.NameClaimRefusal(http) is { } denied) return denied;
        var newName = request.String("new_name");
        if (string.IsNullOrEmpty(newName)) return MlflowErrors.Missing("new_name");
        if (InputRules.CheckModelName(newName) is { } e) return Invalid([("new_name", e)]);
        var newKey = InputRules.NormalizeName(newName);

        var taken = false;
        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            async (model, session, ct) =>
            {
                // As the native rename (RenameModelEndpoint): the name claim moves with the event.
                if (newKey != model.NormalizedName && await session.LoadAsync<ModelNameIndex>(newKey, ct) is not null)
                {
                    taken = true;
                    return Decision.Conflict($"A model named '{newName}' already exists (names are unique regardless of case).");
                }
                return ModelDecisions.Rename(model, newName);
            },
            () => MlflowErrors.ModelNotFound(name),
            (outcome, _) =>
            {
                if (outcome.Before.NormalizedName != outcome.After.NormalizedName)
                {
                    outcome.Session.Delete<ModelNameIndex>(outcome.Before.NormalizedName);
                    outcome.Session.Insert(new ModelNameIndex { Id = outcome.After.NormalizedName, ModelId = outcome.After.Id });
                }
                return ValueTask.CompletedTask;
            });
        if (taken) return AlreadyExists(newName);
        return error ?? await Answer(http, newName, http.RequestAborted);
    }

    /// <summary>
    /// MLflow's delete as the registry's recorded deletion (<see cref="Models.Deleting.DeleteModelEndpoint"/>): a tombstone
    /// that frees the name and hides the model from current reads while its history stays readable as of earlier points.
    /// Admin, as natively; a protected or deployed version refuses it with RESOURCE_CONFLICT (nothing changed).
    /// </summary>
    [ExcludeFromDescription]
    [Authorize(Policy = Policies.Authenticated)]
    [WolverineDelete(MlflowRoutes.Prefix + "/registered-models/delete", OperationId = "MlflowDeleteRegisteredModel")]
    public static async Task<IResult> Delete(HttpContext http, ModelCommands commands, ApprovalPolicy approvals)
    {
        var (request, name, refused) = await MlflowRequest.ForModelAsync(http, commands, Roles.Admin);
        if (refused is not null) return refused;
        var (_, error) = await MlflowCommands.RunAsync(http, commands, name,
            // MLflow's delete carries no reason: none is recorded (the actor and the door are).
            (model, _, _) => ValueTask.FromResult(ModelDecisions.Delete(model, approvals, null)),
            () => MlflowErrors.ModelNotFound(name), Models.Deleting.DeleteModelEndpoint.FreeName);
        return error ?? MlflowJson.Empty();
    }

    /// <summary><c>{"registered_model"}</c> as it stands now, read after the command committed.</summary>
    internal static async Task<IResult> Answer(HttpContext http, string name, CancellationToken ct)
    {
        await using var session = http.RequestServices.GetRequiredService<WorkspaceStore>().QuerySession();
        var model = await session.FindModel(name, ct);
        if (model is null) return MlflowErrors.ModelNotFound(name);
        return MlflowJson.Ok(new { registered_model = await MlflowShapes.Model(session, model, ct) });
    }

    internal static IResult AlreadyExists(string name) =>
        MlflowErrors.Error(MlflowErrors.ResourceAlreadyExists, $"Registered Model (name={name}) already exists.");

    internal static IResult Invalid(IEnumerable<(string Field, string Error)> errors) =>
        MlflowErrors.Error(MlflowErrors.InvalidParameterValue, string.Join(" ", errors.Select(e => $"{e.Field}: {e.Error}").Take(5)));
}
