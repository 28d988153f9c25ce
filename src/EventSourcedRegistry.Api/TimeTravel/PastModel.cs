using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Api.TimeTravel;

/// <summary>A model as it stood at a point in history: replayed from its own events up to that sequence.</summary>
public sealed record PastModel(ModelView Model, IReadOnlyList<IEvent> Events, PointInTime Point)
{
    /// <summary>
    /// Resolves asOf/atSequence and replays the model named <paramref name="name"/> — by the name it had then,
    /// or failing that its current name — up to that point.
    /// </summary>
    public static async Task<(PastModel? Past, IResult? Problem)> Load(HttpContext http, string name, IQuerySession session,
        NpgsqlDataSource data)
    {
        var ct = http.RequestAborted;
        var (point, problem) = await PointsInTime.Resolve(http.Request, data, ct);
        if (problem is not null) return (null, problem);
        var modelId = await StorePosition.ModelIdByName(data, session, RegistryStore.Schema, name, point!.Sequence, ct);
        if (modelId is null) return (null, Problems.ModelNotFound(name));
        var events = await StorePosition.EventsUpTo(session, modelId.Value, point.Sequence, ct);
        var model = StorePosition.ModelAt(events);
        if (model is null)
            return (null, Problems.Problem(StatusCodes.Status404NotFound, "Model not found",
                $"Model '{name}' did not exist yet at sequence {point.Sequence}."));
        return (new PastModel(model, events, point), null);
    }

    public ModelVersionView? Version(int version) => StorePosition.VersionAt(Events, Model.Id, version);

    /// <summary>The body with <c>asOfSequence</c> (and the asked instant) added, so an auditor can reproduce the answer.</summary>
    public IResult Json(object body) => Stamped(body, Point);

    public static IResult Stamped(object body, PointInTime point)
    {
        var node = JsonSerializer.SerializeToNode(body, body.GetType(), Infrastructure.Json.Options)!.AsObject();
        node["asOfSequence"] = point.Sequence;
        if (point.Instant is { } instant) node["asOf"] = instant;
        return Results.Json(node, Infrastructure.Json.Options);
    }
}
