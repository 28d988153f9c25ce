using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Metadata;
using EventSourcedRegistry.Validation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.MetadataSchema;

public static class MetadataSchemaInput
{
    /// <summary>The shape checks of a PUT: a schema that is a usable JSON Schema, a reason of reasonable length.</summary>
    public static List<(string Field, string Error)> Check(SetMetadataSchema request)
    {
        var errors = new List<(string, string)>();
        if (request.Schema is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } schema)
            errors.Add(("schema", "A JSON Schema is required as \"schema\", for example {\"type\": \"object\", \"required\": [\"owner\"]}."));
        else
            errors.AddRange(MetadataStandard.CheckSchema(schema).Select(e => ("schema", e)));
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) errors.Add(("reason", r));
        return errors;
    }
}

public static class SetModelMetadataSchemaEndpoint
{
    /// <summary>
    /// Sets (or replaces) the model's metadata standard; new versions' metadata is validated against it. Admin only:
    /// contributors are the ones a standard constrains, so they may not relax it.
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.MetadataSchemaInfo>(StatusCodes.Status200OK)]
    [WolverinePut("/api/v1/models/{name}/metadata-schema", OperationId = "SetModelMetadataSchema")]
    public static async Task<IResult> Put(string name, SetMetadataSchema? request, HttpContext http, ModelCommands commands)
    {
        if (request is null) return Problems.BodyRequired("{\"schema\", \"reason\"?}");
        var errors = MetadataSchemaInput.Check(request);
        if (errors.Count > 0) return Problems.Validation(errors);

        return await commands.Execute(http, name, request, request.Reason,
            (model, _, _) => ValueTask.FromResult(MetadataStandard.SetModelSchema(model, request.Schema!.Value)),
            (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK,
                new Wire.MetadataSchemaInfo(outcome.After.Name, outcome.After.MetadataSchema!.Value, outcome.After.Revision))));
    }
}

public static class GetModelMetadataSchemaEndpoint
{
    /// <summary>The model's own metadata standard (the registry's is at /api/v1/registry/metadata-schema); 404 when it has none.</summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.MetadataSchemaInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}/metadata-schema", OperationId = "GetModelMetadataSchema")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store)
    {
        await using var session = store.QuerySession();
        var model = await session.FindModel(name, http.RequestAborted);
        if (model is null) return Problems.ModelNotFound(name);
        Revisions.Write(http.Response, model.Revision);
        return model.MetadataSchema is { } schema
            ? Results.Json(new Wire.MetadataSchemaInfo(model.Name, schema, model.Revision), Json.Options)
            : Problems.Problem(StatusCodes.Status404NotFound, "No metadata schema", $"Model '{model.Name}' has no metadata schema.");
    }
}

public static class RemoveModelMetadataSchemaEndpoint
{
    /// <summary>Removes the model's metadata standard; versions registered later are checked against the registry's alone.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [WolverineDelete("/api/v1/models/{name}/metadata-schema", OperationId = "RemoveModelMetadataSchema")]
    public static async Task<IResult> Delete(string name, HttpContext http, ModelCommands commands)
    {
        var reason = http.Request.Query["reason"].ToString();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);

        return await commands.Execute(http, name, new SetMetadataSchema(null, reason), reason,
            (model, _, _) => ValueTask.FromResult(MetadataStandard.RemoveModelSchema(model)),
            (_, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status204NoContent, null)));
    }
}
