using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Models.MetadataSchema;
using EventSourcedRegistry.Metadata;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Validation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Registry.MetadataSchema;

/// <summary>
/// The registry-wide metadata standard, kept as events in the registry's settings stream (see <see cref="RegistrySettings"/>),
/// so who changed it, when and why shows in the audit log. Its ETag is the settings stream's revision.
/// </summary>
public static class RegistryMetadataSchemaEndpoints
{
    public const string Route = "/api/v1/registry/metadata-schema";

    /// <summary>Sets (or replaces) the registry's metadata standard, which every model's new versions must meet.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.MetadataSchemaInfo>(StatusCodes.Status200OK)]
    [ReadsIfMatch]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePut(Route, OperationId = "SetRegistryMetadataSchema")]
    public static async Task<IResult> Put(SetMetadataSchema? request, HttpContext http, WorkspaceStore store)
    {
        if (request is null) return Problems.BodyRequired("{\"schema\", \"reason\"?}");
        var errors = MetadataSchemaInput.Check(request);
        if (errors.Count > 0) return Problems.Validation(errors);
        return await Change(http, store, request.Reason, settings => MetadataStandard.SetRegistrySchema(settings, request.Schema!.Value),
            after => Results.Json(new Wire.MetadataSchemaInfo(null, after.MetadataSchema!.Value, after.Revision), Json.Options));
    }

    /// <summary>The registry's metadata standard; 404 when there is none.</summary>
    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<Wire.MetadataSchemaInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status404NotFound)]
    [WolverineGet(Route, OperationId = "GetRegistryMetadataSchema")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceStore store)
    {
        await using var session = store.QuerySession();
        var settings = await session.LoadAsync<RegistrySettings>(RegistrySettings.StreamId, http.RequestAborted);
        Revisions.Write(http.Response, settings?.Revision ?? 0);
        return settings?.MetadataSchema is { } schema
            ? Results.Json(new Wire.MetadataSchemaInfo(null, schema, settings.Revision), Json.Options)
            : Problems.Problem(StatusCodes.Status404NotFound, "No metadata schema", "The registry has no metadata schema.");
    }

    /// <summary>Removes the registry's metadata standard; models' own standards still apply.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ReadsIfMatch]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverineDelete(Route, OperationId = "RemoveRegistryMetadataSchema")]
    public static async Task<IResult> Delete(HttpContext http, WorkspaceStore store)
    {
        var reason = http.Request.Query["reason"].ToString();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);
        return await Change(http, store, reason, MetadataStandard.RemoveRegistrySchema, _ => Results.NoContent());
    }

    /// <summary>Changes the settings stream (<see cref="Settings.SettingsChanges"/>), then answers with the settings after.</summary>
    private static async Task<IResult> Change(HttpContext http, WorkspaceStore store, string? reason,
        Func<RegistrySettings?, Decision> decide, Func<RegistrySettings, IResult> respond)
    {
        var outcome = await Settings.SettingsChanges.Apply(http, store, reason, decide);
        if (outcome.Problem is { } problem) return problem;
        Revisions.Write(http.Response, outcome.After.Revision);
        return respond(outcome.After);
    }
}
