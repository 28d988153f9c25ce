using EventSourcedRegistry.Api.Workspaces;
using System.Text.Json;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Api.TimeTravel;

/// <summary>
/// A model as it stood at a point in history: its view from the nearest snapshot plus the events since; its versions'
/// views from that and only their own registration and metadata events, read when asked for.
/// </summary>
public sealed record PastModel(ModelView Model, PointInTime Point, IQuerySession Session, NpgsqlDataSource Data)
{
    public async Task<ModelVersionView?> Version(int version, CancellationToken ct) =>
        (await Versions([version], ct)).GetValueOrDefault(version);

    /// <summary>The views of these versions then, by number; those not registered by then are left out.</summary>
    public Task<SortedDictionary<int, ModelVersionView>> Versions(IEnumerable<int> versions, CancellationToken ct) =>
        StorePosition.VersionViewsAtAsync(Session, Data, Model, versions, Point.Sequence, ct);

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

/// <summary>
/// The way every read of a model at a point (<c>asOf</c>/<c>atSequence</c>) starts: settle the point, resolve the name to
/// the model it named then (by the name it had then, else its current name), and authorize that model — by id, whatever
/// the name led to (see <see cref="AuthorizesModelReadAtPointAttribute"/>). A model the caller may not read answers
/// exactly as an unknown one.
/// </summary>
public sealed class PastModels(NpgsqlDataSource data, PointResolver points, ModelCommands models)
{
    /// <summary>The settled point and the id of the model the name named then, or the problem to answer.</summary>
    public async Task<(PointInTime? Point, Guid ModelId, IResult? Problem)> Resolve(HttpContext http, string name, IQuerySession session)
    {
        var ct = http.RequestAborted;
        var (point, problem) = await points.Resolve(http.Request, http.Workspace(), ct);
        if (problem is not null) return (null, Guid.Empty, problem);
        var modelId = await StorePosition.ModelIdByName(data, session, RegistryStore.Schema, name, point!.Sequence, ct);
        if (modelId is null || !await ModelAccess.MayReadAsync(http.Workspace(), http.User, modelId.Value, models, ct))
            return (null, Guid.Empty, Problems.ModelNotFound(name));
        return (point, modelId.Value, null);
    }

    /// <summary>The model named <paramref name="name"/> replayed up to the requested point.</summary>
    public async Task<(PastModel? Past, IResult? Problem)> Load(HttpContext http, string name, IQuerySession session)
    {
        var (point, modelId, problem) = await Resolve(http, name, session);
        if (problem is not null) return (null, problem);
        var model = await StorePosition.ModelAtAsync(session, data, modelId, point!.Sequence, http.RequestAborted);
        if (model is null)
            return (null, Problems.Problem(StatusCodes.Status404NotFound, "Model not found",
                $"Model '{name}' did not exist at sequence {point.Sequence} (not registered yet, or deleted by then)."));
        return (new PastModel(model, point, session, data), null);
    }
}
