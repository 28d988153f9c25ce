using System.Globalization;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>A resolved point in history: every event with a global sequence up to <see cref="Sequence"/>.</summary>
public sealed record PointInTime(long Sequence, DateTimeOffset? Instant);

/// <summary>
/// The query parameters that ask for a point in history, <c>atSequence</c> or <c>asOf</c> (RFC 3339), and their
/// syntax; <see cref="TimeTravel.PointResolver"/> pins them to a settled sequence.
/// </summary>
public static class PointsInTime
{
    public const string AsOf = "asOf";
    public const string AtSequence = "atSequence";

    public static bool Requested(HttpRequest request) =>
        request.Query.ContainsKey(AsOf) || request.Query.ContainsKey(AtSequence);

    /// <summary>A global sequence number: a whole number from 0.</summary>
    public static bool TryParseSequence(string value, out long sequence) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out sequence);

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
