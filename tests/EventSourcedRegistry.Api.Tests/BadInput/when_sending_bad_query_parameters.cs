using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_query_parameters(AppFixture app) : BadInputTest(app)
{
    private static readonly string[] Lists =
        ["/api/v1/models", "/api/v1/models/churn/versions", "/api/v1/models/churn/history", "/api/v1/models/churn/deployments"];

    public static TheoryData<string, string> BadLimits()
    {
        var data = new TheoryData<string, string>();
        foreach (var list in Lists)
        foreach (var limit in new[] { "0", "5000", "abc" })
            data.Add(list, limit);
        foreach (var limit in new[] { "-1", "1.5", "99999999999", "%20" })
            data.Add(Lists[0], limit);
        return data;
    }

    [Theory]
    [MemberData(nameof(BadLimits))]
    public async Task a_limit_outside_its_range_is_refused_with_400(string list, string limit)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"GET {list}?limit={limit}", errorField: "limit");
    }

    [Theory]
    [InlineData("/api/v1/models", "!!!")]
    [InlineData("/api/v1/models", "a")]
    [InlineData("/api/v1/models", "Li4")]
    [InlineData("/api/v1/models", "%2F%2F%2F%2F")]
    [InlineData("/api/v1/models/churn/versions", "abc")]
    [InlineData("/api/v1/models/churn/versions", "-1")]
    [InlineData("/api/v1/models/churn/versions", "99999999999")]
    [InlineData("/api/v1/models/churn/history", "abc")]
    [InlineData("/api/v1/models/churn/history", "-1")]
    [InlineData("/api/v1/models/churn/history", "99999999999999999999")]
    [InlineData("/api/v1/models/churn/deployments", "abc")]
    [InlineData("/api/v1/models/churn/deployments", "-1")]
    public async Task a_cursor_that_no_page_returned_is_refused_with_400(string list, string cursor)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"GET {list}?cursor={cursor}", errorField: "cursor");
    }

    [Theory]
    [InlineData("novalue")]
    [InlineData(":growth")]
    [InlineData("")]
    public async Task a_tag_filter_that_is_not_key_colon_value_is_refused_with_400(string tag)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"GET /api/v1/models?tag=team:growth&tag={tag}", errorField: "tag");
    }

    [Theory]
    [InlineData("/api/v1/models", "Bogus")]
    [InlineData("/api/v1/models", "Prod")]
    [InlineData("/api/v1/models/churn/versions", "Bogus")]
    public async Task an_unknown_stage_filter_is_refused_with_400(string list, string stage)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(400, $"GET {list}?stage={stage}", errorField: "stage");
        Assert.Contains("Production", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task an_include_archived_that_is_not_a_boolean_is_refused_with_400()
    {
        await GivenChurn();
        await Refused(400, "GET /api/v1/models?includeArchived=yes", errorField: "includeArchived");
    }

    [Fact]
    public async Task a_prefix_over_128_characters_is_refused_with_400()
    {
        await GivenChurn();
        await Refused(400, $"GET /api/v1/models?prefix={new string('p', 129)}", errorField: "prefix");
    }

    [Theory]
    [InlineData("kind=stages", "kind")]
    [InlineData("version=0", "version")]
    [InlineData("version=abc", "version")]
    public async Task a_deployment_history_filter_that_is_not_understood_is_refused_with_400(string filter, string field)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"GET /api/v1/models/churn/deployments?{filter}", errorField: field);
    }

    public static TheoryData<string, string, string> BadPointsInTime()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var read in new[] { "/api/v1/models/churn", "/api/v1/models/churn/versions", "/api/v1/models/churn/versions/1", "/api/v1/models/churn/aliases/latest" })
        {
            data.Add(read, "asOf=yesterday", "asOf");
            data.Add(read, "atSequence=abc", "atSequence");
        }
        data.Add("/api/v1/models/churn", "asOf=2026-03-03", "asOf");
        data.Add("/api/v1/models/churn", "asOf=2026-03-03T14:00:00", "asOf");
        data.Add("/api/v1/models/churn", "atSequence=-1", "atSequence");
        data.Add("/api/v1/models/churn", "asOf=2026-03-03T14:00:00Z&atSequence=1", "asOf");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadPointsInTime))]
    public async Task a_point_in_time_that_is_not_an_instant_or_a_sequence_is_refused_with_400(string read, string query, string field)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"GET {read}?{query}", errorField: field);
    }
}
