using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.ModelVersions.Reading;

public static class GetModelVersionEndpoint
{
    [WolverineGet("/api/v1/models/{name}/versions/{version}", OperationId = "GetModelVersion")]
    public static async Task<IResult> Get(string name, string version, HttpContext http, IDocumentStore store)
    {
        await using var session = store.QuerySession();
        if (ModelLookup.ParseVersion(version) is not { } number) return ModelLookup.BadVersion(version);
        var ct = http.RequestAborted;
        var model = await session.FindModel(name, ct);
        if (model is null) return Problems.ModelNotFound(name);
        var view = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct);
        if (view is null) return Problems.From(ModelDecisions.VersionNotFound(model, number).Rejection!);
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(ModelVersionResponse.From(model.Name, view), Json.Options);
    }
}
