using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Metadata;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Validation;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.ModelVersions.Editing;

public static class EditModelVersionEndpoint
{
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelVersionInfo>(StatusCodes.Status200OK)]
    [WolverinePatch("/api/v1/models/{name}/versions/{version}", OperationId = "EditModelVersion")]
    public static async Task<IResult> Patch(string name, string version, EditModelVersion? request, HttpContext http, ModelCommands commands,
        RecordLimits limits)
    {
        if (request is null) return Problems.BodyRequired("{\"description\"?, \"setTags\"?, \"removeTags\"?, \"metadata\"?}");
        if (ModelLookup.ParseVersion(version) is not { } number) return ModelLookup.BadVersion(version);
        var errors = new List<(string, string)>();
        if (InputRules.CheckText(request.Description, InputRules.MaxDescriptionLength, "A description") is { } d) errors.Add(("description", d));
        errors.AddRange(InputRules.CheckTags(request.SetTags, "setTags"));
        errors.AddRange(InputRules.CheckTagKeys(request.RemoveTags, "removeTags"));
        errors.AddRange(InputRules.CheckTagOverlap(request.SetTags, request.RemoveTags));
        if (request.Metadata is { } m && m.GetRawText().Length > Registering.RegisterModelVersionEndpoint.MaxMetadataBytes)
            errors.Add(("metadata", "Metadata is limited to 256 KiB of JSON."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var metadata = request.Metadata is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } md ? md : (JsonElement?)null;

        ModelVersionView? current = null;
        return await commands.Execute(http, name, request, reason: null,
            async (model, session, ct) =>
            {
                if (!model.HasVersion(number)) return ModelDecisions.VersionNotFound(model, number);
                current = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct);
                if (RecordLimits.CheckEditedTags(current?.Tags ?? new Dictionary<string, string>(), request.SetTags, request.RemoveTags,
                        limits.MaxTagsPerVersion, nameof(RecordLimits.MaxTagsPerVersion), "a version") is { } tooMany)
                    return RecordLimits.Refusal(tooMany);
                var decision = ModelDecisions.EditVersion(model, number, request.Description, request.SetTags, request.RemoveTags,
                    metadata, current?.Tags ?? new Dictionary<string, string>(), current?.Description, current?.Metadata);
                // Replaced metadata must meet the metadata standards as a registration's does.
                if (decision.Events is [ModelVersionMetadataEdited { Metadata: { } replaced }])
                {
                    var registry = await Api.Settings.WorkspacePolicies.SettingsOf(http, session, ct);
                    return MetadataStandard.MetadataRefusal(model.MetadataSchema, registry?.MetadataSchema, replaced) ?? decision;
                }
                return decision;
            },
            (outcome, _) => ValueTask.FromResult(VersionResponses.After(outcome, current!, number)));
    }
}
