using System.Globalization;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// One way a person might write an instant, as they would type it (into a URL, a JSON body or esr's command line):
/// accepted (every form names the same moment) or refused with <see cref="Refusal"/> in the answer.
/// </summary>
public sealed record InstantForm(string Name, Func<DateTimeOffset, string> Write, string? Refusal = null)
{
    public bool Accepted => Refusal is null;

    /// <summary>The form typed into a URL by hand: percent-encoded except '+', which a query string then reads as a space.</summary>
    public static string InUrl(string typed) => Uri.EscapeDataString(typed).Replace("%2B", "+", StringComparison.Ordinal);

    public override string ToString() => Name;
}

/// <summary>The table of instant forms that the API's parameters and bodies and esr must answer alike (issue 19, item 5).</summary>
public static class InstantForms
{
    private static string At(DateTimeOffset instant, int offsetMinutes, string format) =>
        instant.ToOffset(TimeSpan.FromMinutes(offsetMinutes)).ToString(format, CultureInfo.InvariantCulture);

    private const string Seconds = "yyyy-MM-dd'T'HH:mm:ss";

    public static readonly InstantForm[] All =
    [
        new("Z", t => At(t, 0, Seconds) + "Z"),
        new("lower-case t and z", t => At(t, 0, "yyyy-MM-dd't'HH:mm:ss") + "z"),
        new("a space between date and time", t => At(t, 0, "yyyy-MM-dd HH:mm:ss") + "Z"),
        new("+01:00, the + typed unencoded", t => At(t, 60, Seconds) + "+01:00"),
        new("+05:45", t => At(t, 345, Seconds) + "+05:45"),
        new("-05:30", t => At(t, -330, Seconds) + "-05:30"),
        new("+00:00", t => At(t, 0, Seconds) + "+00:00"),
        new("-00:00", t => At(t, 0, Seconds) + "-00:00"),
        new("a fraction, Z", t => At(t, 0, Seconds) + ".000Z"),
        new("seven fraction digits, +02:00", t => At(t, 120, Seconds) + ".0000000+02:00"),
        new("a space where the offset's + stands", t => At(t, 60, Seconds) + " 01:00"),

        // The example: esr used to take it as UTC while the API refused it.
        new("no offset", t => At(t, 0, Seconds), "has no offset"),
        new("no offset, a space between date and time", t => At(t, 0, "yyyy-MM-dd HH:mm:ss"), "has no offset"),
        new("a date alone", t => At(t, 0, "yyyy-MM-dd"), "a date without a time and an offset"),
        new("no seconds", t => At(t, 0, "yyyy-MM-dd'T'HH:mm") + "Z", "has no seconds"),
        new("an offset without a colon", t => At(t, 60, Seconds) + "+0100", "without a colon"),
        new("a word", _ => "yesterday", "is not an RFC 3339 instant"),
        new("a trailing space", t => At(t, 0, Seconds) + "Z ", "is not an RFC 3339 instant"),
        new("a space before the offset's sign", t => At(t, 60, Seconds) + " +01:00", "is not an RFC 3339 instant"),
        new("month 13", _ => "2026-13-01T00:00:00Z", "is not a real date and time"),
    ];

    public static IEnumerable<InstantForm> Accepted => All.Where(f => f.Accepted);
    public static IEnumerable<InstantForm> Refused => All.Where(f => !f.Accepted);
}

public static class InstantSetup
{
    /// <summary>
    /// Model <c>churn</c> with v1 registered, then a whole second passes (the instant every form writes exactly, with or
    /// without a fraction), then v1 goes to Staging and champion points at it: the state at the instant differs from the
    /// present, and its last event is <c>Before</c>. Waits for the high-water mark and the audit log.
    /// </summary>
    public static async Task<(DateTimeOffset At, long Before)> ChurnChangedAfterAWholeSecond(this AppFixture app)
    {
        await app.Host.RegisterModel("churn");
        await app.Host.RegisterVersion("churn");
        var before = await app.LastSequence();
        var stamped = await app.TimestampOf(before);
        var at = new DateTimeOffset(stamped.UtcTicks - stamped.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1);
        while (DateTimeOffset.UtcNow < at.AddMilliseconds(300)) await Task.Delay(50);
        Assert.Equal(200, (await app.Host.Promote("churn", 1, "Staging", reason: "after the instant")).Status);
        Assert.Equal(200, (await app.Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 })).Status);
        Assert.True(await app.TimestampOf(await app.LastSequence()) > at, "the later events are stamped after the instant");
        await app.WaitForHighWaterMark();
        await app.Store.WaitForAuditTrail();
        return (at, before);
    }
}
