using System.Globalization;
using System.Text.RegularExpressions;

namespace EventSourcedRegistry.Contracts;

/// <summary>
/// The one rule for an instant, wherever one is given: the API's query parameters (<c>asOf</c>, <c>from</c>, <c>to</c>)
/// and bodies (a rollback's <c>asOf</c>), the .NET client and <c>esr</c>. An instant is an RFC 3339 date-time with its
/// offset, <c>Z</c> or <c>±hh:mm</c>: without one it names a different moment in every time zone, so it is refused, never
/// assumed to be UTC. A URL's query string turns an unencoded <c>+</c> into a space, so a space where the offset's sign
/// stands (right after the time, right before <c>hh:mm</c>) is read as <c>+</c>; nowhere else can a space mean that.
/// </summary>
public static partial class Instants
{
    public const string Example = "2026-03-03T14:00:00Z";

    /// <summary>What every refusal names as the accepted forms.</summary>
    public const string AcceptedForms =
        "an RFC 3339 instant with Z or an offset, e.g. 2026-03-03T14:00:00Z, 2026-03-03T15:00:00+01:00 or 2026-03-03T14:00:00.250Z " +
        "(in a URL the + of an offset may be left unencoded)";

    /// <summary>
    /// Reads an instant by the rule above; <paramref name="instant"/> is in UTC. Digits past the seventh of a fraction of a
    /// second (beyond .NET's 100 ns) are dropped, which rounds towards the past: the store stamps events to the
    /// microsecond, so the state at the rounded instant is the state at the given one. <paramref name="problem"/> says what
    /// is wrong and how to fix it, starting with the quoted text, for callers to prefix with the parameter's name.
    /// </summary>
    public static bool TryParse(string? text, out DateTimeOffset instant, out string problem)
    {
        instant = default;
        problem = "";
        if (string.IsNullOrEmpty(text))
        {
            problem = "'' is empty.";
            return false;
        }
        var match = Rfc3339().Match(text);
        if (!match.Success)
        {
            problem = Diagnose(text);
            return false;
        }

        var year = Number(match, "year");
        var month = Number(match, "month");
        var day = Number(match, "day");
        var hour = Number(match, "hour");
        var minute = Number(match, "minute");
        var second = Number(match, "second");
        var offsetHours = Number(match, "offsetHours");
        var offsetMinutes = Number(match, "offsetMinutes");
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 ||
            second > 59 || offsetHours > 23 || offsetMinutes > 59)
        {
            problem = $"{Quote(text)} is not a real date and time (months 01-12, days as the month has them, hours 00-23, " +
                      "minutes and seconds 00-59, offsets up to 23:59).";
            return false;
        }

        var fraction = match.Groups["fraction"].Value;
        var ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).Ticks
                    + (fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(7, '0')[..7], NumberStyles.None, CultureInfo.InvariantCulture));
        var offset = new TimeSpan(offsetHours, offsetMinutes, 0).Ticks;
        var utc = match.Groups["sign"].Value == "-" ? ticks + offset : ticks - offset;
        if (utc < DateTime.MinValue.Ticks || utc > DateTime.MaxValue.Ticks)
        {
            problem = $"{Quote(text)} lies outside the years 0001 to 9999 in UTC.";
            return false;
        }
        instant = new DateTimeOffset(utc, TimeSpan.Zero);
        return true;
    }

    /// <summary>Reads an instant by the rule above, or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static DateTimeOffset Parse(string text) =>
        TryParse(text, out var instant, out var problem) ? instant : throw new FormatException($"{problem} Give {AcceptedForms}.");

    /// <summary>The form the client and esr send: UTC, <c>Z</c>, seven fraction digits (no <c>+</c> to encode).</summary>
    public static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The most likely mistake first, with the fix spelled out on the caller's own text.</summary>
    private static string Diagnose(string text)
    {
        var quoted = Quote(text);
        if (DateOnly().IsMatch(text))
            return $"{quoted} is a date without a time and an offset; give both, e.g. {text}T00:00:00Z.";
        if (WithoutOffset().Match(text) is { Success: true } local)
        {
            var full = local.Groups["seconds"].Success ? text : text + ":00";
            return $"{quoted} has no offset, so it means a different moment in every time zone; add Z for UTC ({full}Z) or its " +
                   $"offset (e.g. {full}+01:00). It is never assumed to be UTC.";
        }
        if (WithoutSeconds().Match(text) is { Success: true } noSeconds)
            return $"{quoted} has no seconds; RFC 3339 needs them: {noSeconds.Groups["head"].Value}:00{noSeconds.Groups["offset"].Value.Replace(' ', '+')}.";
        if (OffsetWithoutColon().Match(text) is { Success: true } basic)
            return $"{quoted} writes its offset without a colon; RFC 3339 writes ±hh:mm: " +
                   $"{basic.Groups["head"].Value}{basic.Groups["sign"].Value.Replace(' ', '+')}{basic.Groups["hours"].Value}:{(basic.Groups["minutes"].Success ? basic.Groups["minutes"].Value : "00")}.";
        return $"{quoted} is not an RFC 3339 instant.";
    }

    private static int Number(Match match, string group) =>
        match.Groups[group].Success ? int.Parse(match.Groups[group].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    /// <summary>The caller's text as a refusal can show it: clipped, control characters spelled out.</summary>
    internal static string Quote(string text)
    {
        var clipped = text.Length <= 64 ? text : text[..64] + "…";
        return "'" + string.Concat(clipped.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) + "'";
    }

    // [0-9], never \d: \d matches every script's digits.
    [GeneratedRegex(@"^(?<year>[0-9]{4})-(?<month>[0-9]{2})-(?<day>[0-9]{2})[Tt ](?<hour>[0-9]{2}):(?<minute>[0-9]{2}):(?<second>[0-9]{2})" +
                    @"(?:\.(?<fraction>[0-9]+))?(?:[Zz]|(?<sign>[+\- ])(?<offsetHours>[0-9]{2}):(?<offsetMinutes>[0-9]{2}))\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DateOnly();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?<seconds>:[0-9]{2}(?:\.[0-9]+)?)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex WithoutOffset();

    [GeneratedRegex(@"^(?<head>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2})(?<offset>[Zz]|[+\- ][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex WithoutSeconds();

    [GeneratedRegex(@"^(?<head>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)(?<sign>[+\- ])(?<hours>[0-9]{2})(?<minutes>[0-9]{2})?\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex OffsetWithoutColon();
}
