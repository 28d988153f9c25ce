using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Hostile points in history sent to every read that takes one, the range bounds and the rollbacks: a malformed point
/// is 400, a point beyond the present 409 "In the future" (at once, without waiting), the distant past an answer about
/// nothing; never a 5xx, and nothing is appended.
/// </summary>
public sealed class when_sending_bad_points_in_time(AppFixture app) : BadInputTest(app)
{
    private static readonly string[] Reads =
    [
        "/api/v1/models/churn", "/api/v1/models/churn/versions", "/api/v1/models/churn/versions/1",
        "/api/v1/models/churn/aliases/latest", "/api/v1/models/churn/history", "/api/v1/models/churn/deployments", "/api/v1/registry",
    ];

    private static readonly string[] Malformed =
    [
        "atSequence=-1", "atSequence=abc", "atSequence=1.5", "atSequence=99999999999999999999", "atSequence=%00", "atSequence=%201",
        "atSequence=1&asOf=2026-03-03T14:00:00Z", "asOf=yesterday", "asOf=2026-03-03", "asOf=2026-03-03T14:00:00",
        "asOf=2026-13-45T99:00:00Z", "asOf=2026-03-03T14:00:00Z%00", "asOf=0001-01-01T00:00:00%2B14:00",
    ];

    private static readonly string[] Future = ["atSequence=9223372036854775807", "asOf=9999-12-31T23:59:59.9999999Z", "asOf=2999-01-01T00:00:00%2B14:00"];

    public static TheoryData<string, string> MalformedReads()
    {
        var data = new TheoryData<string, string>();
        foreach (var read in Reads)
        foreach (var point in Malformed)
            data.Add(read, point);
        return data;
    }

    public static TheoryData<string, string> FutureReads()
    {
        var data = new TheoryData<string, string>();
        foreach (var read in Reads)
        foreach (var point in Future)
            data.Add(read, point);
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedReads))]
    public async Task a_malformed_point_is_refused_with_400(string read, string point)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"GET {read}?{point}");
    }

    [Theory]
    [MemberData(nameof(FutureReads))]
    public async Task a_point_beyond_the_present_is_refused_at_once_with_409(string read, string point)
    {
        await GivenChurn(versions: 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var problem = await Refused(409, $"GET {read}?{point}");
        Assert.Equal("In the future", problem["title"]!.GetValue<string>());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed}: a future point is refused without waiting");
    }

    [Theory]
    [InlineData("/api/v1/registry/changes?from=9223372036854775807", 409)]
    [InlineData("/api/v1/registry/changes?to=9999-12-31T23:59:59Z", 409)]
    [InlineData("/api/v1/registry/changes?to=99999999999999999999", 400)]
    [InlineData("/api/v1/registry/changes?from=2026-03-03", 400)]
    [InlineData("/api/v1/audit?to=9223372036854775807", 409)]
    [InlineData("/api/v1/audit?to=9999-12-31T23:59:59Z", 409)]
    [InlineData("/api/v1/audit?to=99999999999999999999", 400)]
    public async Task a_bad_range_bound_is_refused(string url, int status)
    {
        await GivenChurn(versions: 1);
        await Refused(status, $"GET {url}");
    }

    [Theory]
    [InlineData("""{"atSequence":9007199254740992,"reason":"r"}""", 409)]
    // Past 2^53 a JSON number is refused at the door (a double does not keep it), before any point is resolved.
    [InlineData("""{"atSequence":9223372036854775807,"reason":"r"}""", 400)]
    [InlineData("""{"asOf":"9999-12-31T23:59:59Z","reason":"r"}""", 409)]
    [InlineData("""{"asOf":"2026-03-03","reason":"r"}""", 400)]
    [InlineData("""{"asOf":"0001-01-01T00:00:00+14:00","reason":"r"}""", 400)]
    [InlineData("""{"atSequence":-5,"reason":"r"}""", 400)]
    public async Task a_rollback_to_a_bad_point_is_refused_and_appends_nothing(string body, int status)
    {
        await GivenChurn(versions: 1);
        await Refused(status, "POST /api/v1/models/churn/rollback", body);
        await Refused(status, "POST /api/v1/registry/rollback", body);
    }

    [Fact]
    public async Task the_distant_past_is_an_answer_about_nothing_not_a_fault()
    {
        await GivenChurn(versions: 1);
        var dawn = Uri.EscapeDataString("0001-01-01T00:00:00Z");

        Assert.Equal(404, (await Host.Get($"/api/v1/models/churn?asOf={dawn}")).Status);
        Assert.Equal(404, (await Host.Get($"/api/v1/models/churn/history?atSequence=0")).Status);
        var registry = await Host.Get($"/api/v1/registry?asOf={dawn}").Ok();
        Assert.Empty(registry.Body!["items"]!.AsArray());
        Assert.Equal(0, registry.Body["asOfSequence"]!.GetValue<long>());
        var audit = await Host.Get($"/api/v1/audit?to={dawn}").Ok();
        Assert.Empty(audit.Body!["items"]!.AsArray());
    }
}
