using System.Globalization;
using EventSourcedRegistry.Contracts;

namespace EventSourcedRegistry.Client;

/// <summary>A point in the registry's history: an instant (<c>asOf</c>) or a global sequence (<c>atSequence</c>).</summary>
public sealed record PointInTime
{
    private PointInTime(DateTimeOffset? instant, long? sequence) => (Instant, Sequence) = (instant, sequence);

    public DateTimeOffset? Instant { get; }
    public long? Sequence { get; }

    public static PointInTime AsOf(DateTimeOffset instant) => new(instant, null);
    public static PointInTime AtSequence(long sequence) => new(null, sequence);

    /// <summary>
    /// Digits are a sequence; anything else an instant by the registry's own rule (<see cref="Instants"/>): RFC 3339 with
    /// <c>Z</c> or an offset, e.g. <c>2026-03-03T14:00:00Z</c>. An instant without an offset is refused, not taken as UTC.
    /// </summary>
    /// <exception cref="FormatException">The text is neither; the message says what is wrong and how to write it.</exception>
    public static PointInTime Parse(string text) =>
        TryParse(text, out var point, out var problem) ? point : throw new FormatException(problem);

    /// <summary>As <see cref="Parse"/>; <paramref name="problem"/> says what is wrong, starting with the quoted text.</summary>
    public static bool TryParse(string text, out PointInTime point, out string problem)
    {
        point = null!;
        problem = "";
        if (text.Length > 0 && text.All(char.IsAsciiDigit))
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                problem = $"{text} is too large for a sequence number (at most {long.MaxValue}).";
                return false;
            }
            point = AtSequence(sequence);
            return true;
        }
        if (!Instants.TryParse(text, out var instant, out var why))
        {
            problem = $"{why} Give a global sequence number or {Instants.AcceptedForms}.";
            return false;
        }
        point = AsOf(instant);
        return true;
    }

    internal IEnumerable<(string, string?)> Pairs() =>
        Instant is { } instant
            ? [("asOf", Instants.Format(instant))]
            : [("atSequence", Sequence!.Value.ToString(CultureInfo.InvariantCulture))];
}
