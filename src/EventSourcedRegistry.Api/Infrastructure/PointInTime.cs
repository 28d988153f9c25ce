using System.Globalization;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>A resolved point in history: every event with a global sequence up to <see cref="Sequence"/>.</summary>
public sealed record PointInTime(long Sequence, DateTimeOffset? Instant);

/// <summary>
/// Reads <c>atSequence</c> or <c>asOf</c> (RFC 3339) from the query string and pins it to a settled sequence.
/// <c>asOf</c> resolves to the highest sequence whose event happened at or before the instant; neither ever
/// goes past the store's high-water mark, so the same question always gets the same answer.
/// </summary>
public static class PointsInTime
{
    public const string AsOf = "asOf";
    public const string AtSequence = "atSequence";

    public static bool Requested(HttpRequest request) =>
        request.Query.ContainsKey(AsOf) || request.Query.ContainsKey(AtSequence);

    /// <summary>The requested point, the current settled point when none is requested, or a ProblemDetails.</summary>
    public static Task<(PointInTime? Point, IResult? Problem)> Resolve(HttpRequest request, NpgsqlDataSource data, CancellationToken ct) =>
        Resolve(request.Query[AsOf].ToString(), request.Query[AtSequence].ToString(), data, ct);

    /// <summary>The same for values from a request body; both empty means the current settled point.</summary>
    public static async Task<(PointInTime? Point, IResult? Problem)> Resolve(string asOf, string atSequence, NpgsqlDataSource data,
        CancellationToken ct)
    {
        if (asOf.Length > 0 && atSequence.Length > 0)
            return (null, Problems.Validation([(AsOf, "Give asOf or atSequence, not both.")]));

        var highWaterMark = await StorePosition.HighWaterMark(data, RegistryStore.Schema, ct);
        if (atSequence.Length > 0)
        {
            if (!long.TryParse(atSequence, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
                return (null, Problems.Validation([(AtSequence, "atSequence is a global event sequence number: a whole number from 0.")]));
            if (sequence > highWaterMark)
                return (null, Problems.Problem(StatusCodes.Status409Conflict, "Not settled yet",
                    $"Sequence {sequence} is past the store's high-water mark ({highWaterMark}); history after it is not settled yet, " +
                    "so an answer could still change. Ask again shortly, or use asOf."));
            return (new PointInTime(sequence, null), null);
        }
        if (asOf.Length > 0)
        {
            if (!TryParseInstant(asOf, out var instant))
                return (null, Problems.Validation([(AsOf, "asOf is an RFC 3339 instant with an offset, e.g. 2026-03-03T14:00:00Z.")]));
            var sequence = await StorePosition.SequenceAt(data, RegistryStore.Schema, instant, highWaterMark, ct);
            return (new PointInTime(sequence, instant), null);
        }
        return (new PointInTime(highWaterMark, null), null);
    }

    /// <summary>RFC 3339 needs a date, a time and an offset (Z or ±hh:mm); anything vaguer is refused.</summary>
    public static bool TryParseInstant(string value, out DateTimeOffset instant)
    {
        instant = default;
        if (value.Length < 20 || value[10] is not ('T' or 't' or ' ')) return false;
        var last = value[^1];
        var hasOffset = last is 'Z' or 'z' || (value.Length > 6 && value[^6] is '+' or '-' && value[^3] == ':');
        return hasOffset && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out instant);
    }
}
