using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Archiving;

/// <summary>Soft archive: the model and its history stay; it accepts no commands but restore, and lists hide it by default.</summary>
public static class ArchiveModelEndpoint
{
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status200OK)]
    [WolverinePost("/api/v1/models/{name}/archive", OperationId = "ArchiveModel")]
    public static Task<IResult> Post(string name, ArchiveModel? request, HttpContext http, ModelCommands commands) =>
        Run(name, request, http, commands, ModelDecisions.Archive);

    internal static async Task<IResult> Run(string name, ArchiveModel? request, HttpContext http, ModelCommands commands,
        Func<ModelView, Decision> decide)
    {
        request ??= new ArchiveModel(null);
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);
        return await commands.Execute(http, name, request, request.Reason,
            (model, _, _) => ValueTask.FromResult(decide(model)),
            (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK, outcome.After)));
    }
}

public static class RestoreModelEndpoint
{
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status200OK)]
    [WolverinePost("/api/v1/models/{name}/restore", OperationId = "RestoreModel")]
    public static Task<IResult> Post(string name, ArchiveModel? request, HttpContext http, ModelCommands commands) =>
        ArchiveModelEndpoint.Run(name, request, http, commands, ModelDecisions.Restore);
}
