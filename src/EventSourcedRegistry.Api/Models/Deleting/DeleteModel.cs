using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Deleting;

/// <summary>
/// A recorded deletion (docs/mlflow.md, "Deleting"): <see cref="ModelDeleted"/> is appended, the model's current views go and
/// its name is freed, in one transaction; its events stay, so history, audit and reads as of earlier points still show it.
/// Admin only, with a reason (<c>?reason=</c>, as DELETE carries no body here). Refused (409) while a version is in a
/// protected stage, holds a protected alias or is recorded as deployed.
/// </summary>
public static class DeleteModelEndpoint
{
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [WolverineDelete("/api/v1/models/{name}", OperationId = "DeleteModel")]
    public static async Task<IResult> Delete(string name, HttpContext http, ModelCommands commands, ApprovalPolicy approvals)
    {
        if (Reason(http) is not { } reason) return ReasonRequired();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);
        return await commands.Execute(http, name, new { name, reason }, reason,
            (model, _, _) => ValueTask.FromResult(ModelDecisions.Delete(model, approvals, reason)),
            (_, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status204NoContent, null)),
            FreeName);
    }

    /// <summary>The name's claim goes with the tombstone, in its transaction: a new registration of the name starts a new stream.</summary>
    internal static ValueTask FreeName(CommandOutcome outcome, CancellationToken _)
    {
        if (outcome.Events.OfType<ModelDeleted>().Any()) outcome.Session.Delete<ModelNameIndex>(outcome.Before.NormalizedName);
        return ValueTask.CompletedTask;
    }

    internal static string? Reason(HttpContext http) =>
        http.Request.Query["reason"].ToString() is { Length: > 0 } reason && !string.IsNullOrWhiteSpace(reason) ? reason : null;

    internal static IResult ReasonRequired() =>
        Problems.Validation([("reason", "A deletion needs a reason (?reason=…): it is kept with the tombstone for auditors.")]);
}

/// <summary>
/// Deletes one version (<see cref="ModelVersionDeleted"/>): its view, stage and aliases go, its number is never reused; its
/// events stay. Admin only, with a reason; refused (409) while it is in a protected stage, holds a protected alias or is deployed.
/// </summary>
public static class DeleteModelVersionEndpoint
{
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [WolverineDelete("/api/v1/models/{name}/versions/{version}", OperationId = "DeleteModelVersion")]
    public static async Task<IResult> Delete(string name, string version, HttpContext http, ModelCommands commands, ApprovalPolicy approvals)
    {
        if (ModelLookup.ParseVersion(version) is not { } number) return ModelLookup.BadVersion(version);
        if (DeleteModelEndpoint.Reason(http) is not { } reason) return DeleteModelEndpoint.ReasonRequired();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);
        return await commands.Execute(http, name, new { name, version = number, reason }, reason,
            (model, _, _) => ValueTask.FromResult(ModelDecisions.DeleteVersion(model, approvals, number, reason)),
            (_, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status204NoContent, null)));
    }
}
