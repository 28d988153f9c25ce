using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Deployments;

public sealed record DeploymentReported(string Model, int Version, string Environment, string? Target, string Action, long Revision);

public static class ReportDeploymentEndpoint
{
    public const int MaxEnvironmentLength = 128;

    public static IEnumerable<(string Field, string Error)> Check(ReportDeployment request)
    {
        if (request.Version is not > 0) yield return ("version", "The deployed version is required: a whole number from 1.");
        if (string.IsNullOrWhiteSpace(request.Environment)) yield return ("environment", "The environment is required, e.g. \"production\".");
        else if (request.Environment.Length > MaxEnvironmentLength || request.Environment.Any(c => char.IsControl(c) || c == '/'))
            yield return ("environment", $"An environment has 1 to {MaxEnvironmentLength} characters, no '/' and no control characters.");
        if (request.Target is { } target && (target.Length is 0 or > 256 || target.Any(char.IsControl)))
            yield return ("target", "A target has 1 to 256 characters and no control characters.");
        if (request.Action is not ("deployed" or "undeployed"))
            yield return ("action", "The action is \"deployed\" or \"undeployed\".");
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) yield return ("reason", r);
    }

    /// <summary>CD systems report what they deployed or took down; the registry records it as history.</summary>
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.DeploymentInfo>(StatusCodes.Status200OK)]
    [WolverinePost("/api/v1/models/{name}/deployments", OperationId = "ReportDeployment")]
    public static async Task<IResult> Post(string name, ReportDeployment? request, HttpContext http, ModelCommands commands)
    {
        if (request is null) return Problems.BodyRequired("{\"version\", \"environment\", \"target\"?, \"action\", \"reason\"?}");
        var errors = Check(request).ToList();
        if (errors.Count > 0) return Problems.Validation(errors);
        var deployed = request.Action == "deployed";

        return await commands.Execute(http, name, request, request.Reason,
            (model, _, _) => ValueTask.FromResult(
                ModelDecisions.ReportDeployment(model, request.Version!.Value, request.Environment!, request.Target, deployed)),
            (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK,
                new DeploymentReported(outcome.After.Name, request.Version!.Value, request.Environment!, request.Target,
                    request.Action!, outcome.After.Revision))));
    }
}
