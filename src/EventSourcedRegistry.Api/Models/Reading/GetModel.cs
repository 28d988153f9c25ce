using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.TimeTravel;
using System.Buffers;
using EventSourcedRegistry.Models;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Reading;

public static class GetModelEndpoint
{
    /// <summary>The model view, with its revision as ETag for If-Match on later commands; <c>asOf</c>/<c>atSequence</c> replay the past.</summary>
    [Authorize(Policy = Policies.Read)]
    [AuthorizesModelReadAtPoint]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/models/{name}", OperationId = "GetModel")]
    public static async Task<IResult> Get(string name, HttpContext http, WorkspaceStore store, PastModels pastModels)
    {
        await using var session = store.QuerySession();
        if (PointsInTime.Requested(http.Request))
        {
            var (past, problem) = await pastModels.Load(http, name, session);
            return problem ?? past!.Json(past.Model);
        }
        // The stored view's JSON, read as text and rewritten into the wire's spelling (StoredJson) instead of
        // deserialized and serialized again: a long history's large view costs its bytes, not an object graph.
        var normalized = Validation.InputRules.NormalizeName(name);
        using var stored = new MemoryStream();
        if (!await session.Query<ModelView>().Where(x => x.NormalizedName == normalized).StreamJsonFirstOrDefault(stored, http.RequestAborted))
            return Problems.ModelNotFound(name);
        var json = stored.GetBuffer().AsSpan(0, (int)stored.Length);
        var wire = new ArrayBufferWriter<byte>(json.Length);
        if (StoredJson.TopLevelInt64(json, "revision") is { } revision && StoredJson.TryWriteWire(json, typeof(ModelView), Json.Options, wire))
        {
            Revisions.Write(http.Response, revision);
            return Results.Bytes(wire.WrittenMemory, "application/json; charset=utf-8");
        }
        // Stored JSON the contract does not expect (older code wrote it): the object's own round trip.
        stored.Position = 0;
        var model = session.DocumentStore.Options.Serializer().FromJson<ModelView>(stored);
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(model, Json.Options);
    }
}
