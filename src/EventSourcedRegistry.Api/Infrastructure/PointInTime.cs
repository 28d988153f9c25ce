using System.Globalization;
using EventSourcedRegistry.Contracts;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>A resolved point in history: every event with a global sequence up to <see cref="Sequence"/>.</summary>
public sealed record PointInTime(long Sequence, DateTimeOffset? Instant);

/// <summary>
/// The parameters that ask for a point in history, <c>atSequence</c> or <c>asOf</c>, and range bounds (<c>from</c>,
/// <c>to</c>), and their syntax; <see cref="TimeTravel.PointResolver"/> pins them to a settled sequence. Every instant, in a
/// query or a body, is read by the one rule the client and esr read it with too (<see cref="Instants"/>).
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

    /// <summary>An instant (<see cref="Instants"/>), or the 400 entry that names the parameter, what is wrong and the accepted forms.</summary>
    public static bool TryParseInstant(string value, string field, out DateTimeOffset instant, out string error)
    {
        error = "";
        if (Instants.TryParse(value, out instant, out var problem)) return true;
        error = $"{field} {problem} Give {Instants.AcceptedForms}.";
        return false;
    }

    /// <summary>A range bound: a global sequence (digits) or an instant; else the 400 entry, as for an instant.</summary>
    public static bool TryParseBound(string value, string field, out long? sequence, out DateTimeOffset? instant, out string error)
    {
        (sequence, instant, error) = (null, null, "");
        if (value.Length > 0 && value.All(char.IsAsciiDigit))
        {
            if (TryParseSequence(value, out var number)) sequence = number;
            else error = $"{field} is too large for a sequence number (at most {long.MaxValue}).";
            return sequence is not null;
        }
        if (Instants.TryParse(value, out var parsed, out var problem))
        {
            instant = parsed;
            return true;
        }
        error = $"{field} {problem} Give a global sequence number or {Instants.AcceptedForms}.";
        return false;
    }
}
