using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Api.TimeTravel;

/// <summary>
/// A model as it stood at a point in history: its view from the nearest snapshot plus the events since; its events up
/// to that sequence (for the version views, which have no snapshots) are read only when asked for.
/// </summary>
public sealed record PastModel(ModelView Model, PointInTime Point, IQuerySession Session)
{
    private IReadOnlyList<IEvent>? _events;

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
        var model = await StorePosition.ModelAtAsync(session, data, modelId.Value, point.Sequence, ct);
        if (model is null)
            return (null, Problems.Problem(StatusCodes.Status404NotFound, "Model not found",
                $"Model '{name}' did not exist yet at sequence {point.Sequence}."));
        return (new PastModel(model, point, session), null);
    }

    /// <summary>The model's events up to the point, in order (read once, on first use).</summary>
    public async Task<IReadOnlyList<IEvent>> Events(CancellationToken ct) =>
        _events ??= await StorePosition.EventsUpTo(Session, Model.Id, Point.Sequence, ct);

    public async Task<ModelVersionView?> Version(int version, CancellationToken ct) =>
        StorePosition.VersionAt(await Events(ct), Model.Id, version);

    /// <summary>The body with <c>asOfSequence</c> (and the asked instant) added, so an auditor can reproduce the answer.</summary>
    public IResult Json(object body) => Stamped(body, Point);

    public static IResult Stamped(object body, PointInTime point)
    {
        // The body serialized once, its closing brace replaced by the stamp: no document tree of a large view.
        var json = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), Infrastructure.Json.Options);
        var end = Array.LastIndexOf(json, (byte)'}');
        var stamp = new System.IO.MemoryStream(json.Length + 96);
        stamp.Write(json, 0, end);
        using (var writer = new Utf8JsonWriter(stamp))
        {
            writer.WriteStartObject();
            writer.WriteNumber("asOfSequence", point.Sequence);
            if (point.Instant is { } instant) writer.WriteString("asOf", instant);
            writer.WriteEndObject();
        }
        // The stamp was written as its own object: drop its opening brace, joining it to the body with a comma if needed.
        var bytes = stamp.ToArray();
        bytes[end] = json.AsSpan(0, end).TrimEnd(" \r\n\t"u8).EndsWith("{"u8) ? (byte)' ' : (byte)',';
        return Results.Bytes(bytes, "application/json; charset=utf-8");
    }
}
