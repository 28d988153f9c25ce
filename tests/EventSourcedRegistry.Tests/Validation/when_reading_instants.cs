using System.Globalization;
using CsCheck;
using EventSourcedRegistry.Contracts;

namespace EventSourcedRegistry.Tests.Validation;

/// <summary>
/// The one rule for instants that the API (query parameters and bodies), the client and esr share (issue 19, item 5):
/// RFC 3339 with Z or an offset; a space where the offset's '+' stands (an unencoded '+' in a URL) is read as '+';
/// anything else, an instant without an offset above all, is refused with the fix spelled out.
/// </summary>
public class when_reading_instants
{
    private static readonly DateTimeOffset TwoPm = new(2026, 3, 3, 14, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, DateTimeOffset> Accepted => new()
    {
        { "2026-03-03T14:00:00Z", TwoPm },
        { "2026-03-03t14:00:00z", TwoPm },
        { "2026-03-03 14:00:00Z", TwoPm },
        { "2026-03-03T14:00:00+00:00", TwoPm },
        { "2026-03-03T14:00:00-00:00", TwoPm },
        { "2026-03-03T15:00:00+01:00", TwoPm },
        // "+01:00" typed unencoded into a URL arrives as " 01:00".
        { "2026-03-03T15:00:00 01:00", TwoPm },
        { "2026-03-03 15:00:00 01:00", TwoPm },
        { "2026-03-03T13:00:00-01:00", TwoPm },
        { "2026-03-04T03:30:00+13:30", TwoPm },
        { "2026-03-03T00:00:00+23:59", new DateTimeOffset(2026, 3, 2, 0, 1, 0, TimeSpan.Zero) },
        { "2026-03-03T14:00:00.5Z", TwoPm.AddMilliseconds(500) },
        { "2026-03-03T15:00:00.250+01:00", TwoPm.AddMilliseconds(250) },
        // Past .NET's 100 ns the digits are dropped: towards the past, never the future.
        { "2026-03-03T14:00:00.123456789Z", TwoPm.AddTicks(1_234_567) },
        { "2028-02-29T00:00:00Z", new DateTimeOffset(2028, 2, 29, 0, 0, 0, TimeSpan.Zero) },
        { "0001-01-01T00:00:00Z", DateTimeOffset.MinValue },
        { "9999-12-31T23:59:59.9999999Z", DateTimeOffset.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void an_instant_with_an_offset_reads_as_that_moment_in_utc(string text, DateTimeOffset expected)
    {
        Assert.True(Instants.TryParse(text, out var instant, out var problem), problem);
        Assert.Equal(expected, instant);
        Assert.Equal(TimeSpan.Zero, instant.Offset);
    }

    [Theory]
    // The issue's own example: esr used to take it as UTC.
    [InlineData("2026-12-05T08:46:20", "has no offset", "2026-12-05T08:46:20Z")]
    [InlineData("2026-12-05 08:46:20", "has no offset", "2026-12-05 08:46:20+01:00")]
    [InlineData("2026-12-05T08:46:20.125", "has no offset", "2026-12-05T08:46:20.125Z")]
    [InlineData("2026-12-05T08:46", "has no offset", "2026-12-05T08:46:00Z")]
    [InlineData("2026-12-05", "a date without a time and an offset", "2026-12-05T00:00:00Z")]
    [InlineData("2026-03-03T14:00Z", "has no seconds", "2026-03-03T14:00:00Z")]
    [InlineData("2026-03-03T15:00 01:00", "has no seconds", "2026-03-03T15:00:00+01:00")]
    [InlineData("2026-03-03T15:00:00+0100", "without a colon", "2026-03-03T15:00:00+01:00")]
    [InlineData("2026-03-03T15:00:00+01", "without a colon", "2026-03-03T15:00:00+01:00")]
    [InlineData("2026-03-03T15:00:00 0100", "without a colon", "2026-03-03T15:00:00+01:00")]
    [InlineData("2026-13-01T00:00:00Z", "not a real date and time", "months 01-12")]
    [InlineData("2026-02-29T00:00:00Z", "not a real date and time", "")]
    [InlineData("2026-03-03T24:00:00Z", "not a real date and time", "")]
    [InlineData("2026-12-31T23:59:60Z", "not a real date and time", "")]
    [InlineData("2026-03-03T14:00:00+24:00", "not a real date and time", "")]
    [InlineData("0001-01-01T00:00:00+00:01", "outside the years 0001 to 9999", "")]
    [InlineData("9999-12-31T23:59:59-00:01", "outside the years 0001 to 9999", "")]
    public void a_refusal_says_what_is_wrong_and_how_to_write_it(string text, string says, string fix)
    {
        Assert.False(Instants.TryParse(text, out _, out var problem));
        Assert.StartsWith($"'{text}'", problem);
        Assert.Contains(says, problem);
        Assert.Contains(fix, problem);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("yesterday")]
    [InlineData("now")]
    [InlineData("1772546400")]
    [InlineData(" 2026-03-03T14:00:00Z")]
    [InlineData("2026-03-03T14:00:00Z ")]
    [InlineData("2026-03-03T14:00:00Z\n")]
    [InlineData("2026-03-03T14:00:00 Z")]
    // A space is a '+' only where the offset's sign stands, never beside a sign or doubled.
    [InlineData("2026-03-03T14:00:00 -01:00")]
    [InlineData("2026-03-03T14:00:00 +01:00")]
    [InlineData("2026-03-03T14:00:00  01:00")]
    [InlineData("2026-03-03T14:00:00 01:00 ")]
    [InlineData("2026-03-03  14:00:00Z")]
    [InlineData("2026-03-03_14:00:00Z")]
    [InlineData("2026-03-03T14:00:00.Z")]
    [InlineData("2026-03-03T14:00:00,5Z")]
    [InlineData("2026-3-3T14:00:00Z")]
    [InlineData("26-03-03T14:00:00Z")]
    [InlineData("+2026-03-03T14:00:00Z")]
    [InlineData("2026-03-03T14:00:00+01:00[Europe/Paris]")]
    [InlineData("2026-03-03T14:00:00 Europe/Paris")]
    [InlineData("2026-03-03T14:00:00 UTC")]
    [InlineData("2026-03-03T14:00:00GMT")]
    [InlineData("Tue, 03 Mar 2026 14:00:00 GMT")]
    [InlineData("03/03/2026 14:00:00 +00:00")]
    [InlineData("２０２６-03-03T14:00:00Z")]
    [InlineData("٢٠٢٦-03-03T14:00:00Z")]
    public void anything_else_is_refused(string? text)
    {
        Assert.False(Instants.TryParse(text, out _, out var problem));
        Assert.NotEmpty(problem);
        Assert.Throws<FormatException>(() => Instants.Parse(text ?? ""));
    }

    [Fact]
    public void a_refusal_quotes_hostile_text_clipped_and_printable()
    {
        Assert.False(Instants.TryParse("2026\u0001" + new string('x', 5000), out _, out var problem));
        Assert.Contains("\\u0001", problem);
        Assert.True(problem.Length < 300, problem);
    }

    [Fact]
    public void parse_names_the_accepted_forms_in_its_exception()
    {
        var error = Assert.Throws<FormatException>(() => Instants.Parse("2026-12-05T08:46:20"));
        Assert.Contains(Instants.AcceptedForms, error.Message);
    }

    [Fact]
    public void any_moment_written_with_any_offset_reads_back_as_that_moment()
    {
        // A day inside either end of the range, so that every offset keeps the local time in range too.
        var moment = Gen.Long[DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay]
            .Select(t => new DateTimeOffset(t, TimeSpan.Zero));
        var offset = Gen.Int[-(23 * 60 + 59), 23 * 60 + 59];
        Gen.Select(moment, offset, Gen.Bool).Sample((utc, minutes, unencoded) =>
        {
            var local = utc.UtcDateTime.AddMinutes(minutes);
            var sign = minutes < 0 ? "-" : unencoded ? " " : "+";
            var text = local.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) +
                       sign + TimeSpan.FromMinutes(Math.Abs(minutes)).ToString(@"hh\:mm", CultureInfo.InvariantCulture);
            return Instants.TryParse(text, out var read, out _) && read == utc;
        });
    }

    [Fact]
    public void what_the_client_and_esr_send_reads_back_as_the_same_moment()
    {
        Gen.Long[DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks].Sample(ticks =>
        {
            var instant = new DateTimeOffset(ticks, TimeSpan.Zero);
            var text = Instants.Format(instant);
            return !text.Contains('+') && Instants.TryParse(text, out var read, out _) && read == instant;
        });
    }
}
