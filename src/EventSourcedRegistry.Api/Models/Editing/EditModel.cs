using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Editing;

public static class EditModelEndpoint
{
    public static IEnumerable<(string Field, string Error)> Check(EditModel request)
    {
        if (InputRules.CheckText(request.Description, InputRules.MaxDescriptionLength, "A description") is { } d) yield return ("description", d);
        foreach (var error in InputRules.CheckTags(request.SetTags, "setTags")) yield return error;
        foreach (var error in InputRules.CheckTagKeys(request.RemoveTags, "removeTags")) yield return error;
        foreach (var error in InputRules.CheckTagOverlap(request.SetTags, request.RemoveTags)) yield return error;
    }

    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status200OK)]
    [WolverinePatch("/api/v1/models/{name}", OperationId = "EditModel")]
    public static async Task<IResult> Patch(string name, EditModel? request, HttpContext http, ModelCommands commands, RecordLimits limits)
    {
        if (request is null) return Problems.BodyRequired("{\"description\"?, \"setTags\"?, \"removeTags\"?}");
        var errors = Check(request).ToList();
        if (errors.Count > 0) return Problems.Validation(errors);

        return await commands.Execute(http, name, request, reason: null,
            (model, _, _) => ValueTask.FromResult(
                RecordLimits.CheckEditedTags(model.Tags, request.SetTags, request.RemoveTags, limits.MaxTagsPerModel,
                    nameof(RecordLimits.MaxTagsPerModel), "a model") is { } tooMany
                    ? RecordLimits.Refusal(tooMany)
                    : ModelDecisions.EditMetadata(model, request.Description, request.SetTags, request.RemoveTags)),
            (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK, outcome.After)));
    }
}
