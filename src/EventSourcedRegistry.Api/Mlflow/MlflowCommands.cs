using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// An MLflow write as a command on the model's stream: the same path as <c>/api/v1</c> (<see cref="ModelCommands.Run"/>:
/// the stream locked, decided by the same rules, appended in one transaction with the caller as actor), answered in
/// MLflow's words. MLflow has no If-Match or Idempotency-Key, so neither is read.
/// </summary>
public static class MlflowCommands
{
    /// <summary>The events the command appended (empty for a no-op), or the MLflow error it was refused with.</summary>
    public static async Task<(IReadOnlyList<object> Events, IResult? Error)> RunAsync(HttpContext http, ModelCommands commands, string modelName,
        ModelCommands.Decide decide, Func<IResult> notFound, ModelCommands.BeforeSave? beforeSave = null, string? reason = null)
    {
        var store = new WorkspaceStore(http.RequestServices.GetRequiredService<IDocumentStore>(), http.Workspace());
        var normalized = InputRules.NormalizeName(modelName);
        IReadOnlyList<object> appended = [];
        ModelCommands.Respond respond = (outcome, _) =>
        {
            appended = outcome.Events;
            return ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK, null));
        };
        var context = CommandContext.For(http, reason);
        // A policy taken from this node's copy is confirmed under the model's lock, before deciding (see WorkspacePolicies).
        var policy = Api.Settings.PolicyResolution.RevisionToConfirm(http);
        // Twice at most: the name may have moved to another model between the lookup and the locked read (a rename).
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (await commands.ModelIdOf(http.Workspace(), modelName, http.RequestAborted) is not { } modelId) return ([], notFound());
            var ran = await commands.Run(store, modelId, modelName, null, context, null, decide, respond, beforeSave, http.RequestAborted,
                verifyName: normalized, policyRevision: policy);
            if (ran.NameMoved) continue;
            if (ran.Refused is { } refused) return ([], refused.Status == StatusCodes.Status404NotFound && refused.Title == "Model not found" ? notFound() : MlflowErrors.From(refused));
            return (appended, null);
        }
        return ([], notFound());
    }

    public static async Task<ModelView?> FindModel(HttpContext http, string name)
    {
        await using var session = http.RequestServices.GetRequiredService<WorkspaceStore>().QuerySession();
        return await session.FindModel(name, http.RequestAborted);
    }
}
