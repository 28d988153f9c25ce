using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Renaming;

public static class RenameModelEndpoint
{
    /// <summary>
    /// Moves the name claim in the same transaction as the event: the old name is released, the new one
    /// claimed (a rename that only changes case keeps its claim). Like registering, it needs the contributor role
    /// registry-wide (<see cref="Access.ModelAccess.MayClaimNames"/>); a caller scoped to the model gets past the policy
    /// (the model is theirs) and is refused here.
    /// </summary>
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status200OK)]
    [WolverinePost("/api/v1/models/{name}/rename", OperationId = "RenameModel")]
    public static async Task<IResult> Post(string name, RenameModel? request, HttpContext http, ModelCommands commands, WorkspaceStore store)
    {
        if (!Access.ModelAccess.MayClaimNames(http.User)) return Access.ModelAccess.NameClaimRefused();
        if (request is null) return Problems.BodyRequired("{\"newName\", \"reason\"?}");
        if (InputRules.CheckModelName(request.NewName) is { } error) return Problems.Validation([("newName", error)]);
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);
        var newName = request.NewName!;
        var newKey = InputRules.NormalizeName(newName);

        var result = await commands.Execute(http, name, request, request.Reason,
            async (model, session, ct) =>
            {
                if (newKey != model.NormalizedName && await session.LoadAsync<ModelNameIndex>(newKey, ct) is not null)
                    return Decision.Conflict($"A model named '{newName}' already exists (names are unique regardless of case).");
                return ModelDecisions.Rename(model, newName);
            },
            (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK, outcome.After,
                $"/api/v1/models/{Uri.EscapeDataString(outcome.After.Name)}")),
            (outcome, _) =>
            {
                if (outcome.Before.NormalizedName != outcome.After.NormalizedName)
                {
                    outcome.Session.Delete<ModelNameIndex>(outcome.Before.NormalizedName);
                    outcome.Session.Insert(new ModelNameIndex { Id = outcome.After.NormalizedName, ModelId = outcome.After.Id });
                }
                return ValueTask.CompletedTask;
            });
        return result;
    }
}
