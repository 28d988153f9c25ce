using System.Globalization;

namespace EventSourcedRegistry.Client;

/// <summary>A point in the registry's history: an instant (<c>asOf</c>) or a global sequence (<c>atSequence</c>).</summary>
public sealed record PointInTime
{
    private PointInTime(DateTimeOffset? instant, long? sequence) => (Instant, Sequence) = (instant, sequence);

    public DateTimeOffset? Instant { get; }
    public long? Sequence { get; }

    public static PointInTime AsOf(DateTimeOffset instant) => new(instant, null);
    public static PointInTime AtSequence(long sequence) => new(null, sequence);

    /// <summary>Digits are a sequence; anything else an RFC 3339 instant (e.g. <c>2026-03-03T14:00Z</c>).</summary>
    public static PointInTime Parse(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            ? AtSequence(sequence)
            : AsOf(DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));

    internal IEnumerable<(string, string?)> Pairs() =>
        Instant is { } instant
            ? [("asOf", instant.ToString("O", CultureInfo.InvariantCulture))]
            : [("atSequence", Sequence!.Value.ToString(CultureInfo.InvariantCulture))];
}
