using EventSourcedRegistry.Api.Infrastructure;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Reading;

public static class GetModelEndpoint
{
    /// <summary>The model view, with its revision as ETag for If-Match on later commands.</summary>
    [WolverineGet("/api/v1/models/{name}", OperationId = "GetModel")]
    public static async Task<IResult> Get(string name, HttpContext http, IDocumentStore store)
    {
        await using var session = store.QuerySession();
        var model = await session.FindModel(name, http.RequestAborted);
        if (model is null) return Problems.ModelNotFound(name);
        Revisions.Write(http.Response, model.Revision);
        return Results.Json(model, Json.Options);
    }
}
