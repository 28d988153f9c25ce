using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_naming_what_does_not_exist(AppFixture app) : BadInputTest(app)
{
    /// <summary>Every model route, each with a body it would accept for an existing model.</summary>
    public static TheoryData<string, string?> ModelRoutes => new()
    {
        { "GET /api/v1/models/ghost", null },
        { "PATCH /api/v1/models/ghost", """{"description":"x"}""" },
        { "POST /api/v1/models/ghost/rename", """{"newName":"ghost2"}""" },
        { "POST /api/v1/models/ghost/archive", "{}" },
        { "POST /api/v1/models/ghost/restore", "{}" },
        { "POST /api/v1/models/ghost/versions", VersionBody },
        { "GET /api/v1/models/ghost/versions", null },
        { "GET /api/v1/models/ghost/versions/1", null },
        { "PATCH /api/v1/models/ghost/versions/1", """{"description":"x"}""" },
        { "POST /api/v1/models/ghost/versions/1/stage", """{"stage":"Staging"}""" },
        { "PUT /api/v1/models/ghost/aliases/champion", """{"version":1}""" },
        { "DELETE /api/v1/models/ghost/aliases/champion", null },
        { "GET /api/v1/models/ghost/aliases/champion", null },
        { "GET /api/v1/models/ghost/aliases/latest", null },
        { "GET /api/v1/models/ghost/history", null },
        { "POST /api/v1/models/ghost/deployments", """{"version":1,"environment":"prod","action":"deployed"}""" },
        { "GET /api/v1/models/ghost/deployments", null },
        { "POST /api/v1/models/ghost/rollback", """{"atSequence":0,"reason":"bad release"}""" },
    };

    [Theory]
    [MemberData(nameof(ModelRoutes))]
    public async Task an_unknown_model_is_refused_with_404_on_every_model_route(string route, string? body)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(404, route, body);
        Assert.Contains("'ghost'", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET /api/v1/models/churn/versions/3", null)]
    [InlineData("PATCH /api/v1/models/churn/versions/3", """{"description":"x"}""")]
    [InlineData("POST /api/v1/models/churn/versions/3/stage", """{"stage":"Staging"}""")]
    [InlineData("GET /api/v1/models/churn/versions/2147483647", null)]
    [InlineData("GET /api/v1/models/churn/aliases/v3", null)]
    [InlineData("POST /api/v1/models/churn/deployments", """{"version":3,"environment":"prod","action":"deployed"}""")]
    public async Task an_unknown_version_is_refused_with_404(string route, string? body)
    {
        await GivenChurn(versions: 2);
        var problem = await Refused(404, route, body);
        Assert.Contains("'churn'", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET /api/v1/models/churn/versions/1", null)]
    [InlineData("PATCH /api/v1/models/churn/versions/1", """{"description":"x"}""")]
    [InlineData("POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging"}""")]
    [InlineData("GET /api/v1/models/churn/aliases/latest", null)]
    public async Task a_version_of_a_model_without_versions_is_refused_with_404(string route, string? body)
    {
        await GivenChurn();
        await Refused(404, route, body);
    }

    [Theory]
    [InlineData("GET /api/v1/models/churn/aliases/champion")]
    [InlineData("DELETE /api/v1/models/churn/aliases/champion")]
    public async Task an_unknown_alias_is_refused_with_404(string route)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(404, route);
        Assert.Contains("champion", problem["detail"]!.GetValue<string>());
    }

    public static TheoryData<string, string?> BadVersionRoutes()
    {
        var data = new TheoryData<string, string?>();
        foreach (var version in new[] { "0", "abc", "-1", "1.5", "1e2", "%201", "99999999999" })
            data.Add($"GET /api/v1/models/churn/versions/{version}", null);
        foreach (var version in new[] { "0", "abc" })
        {
            data.Add($"PATCH /api/v1/models/churn/versions/{version}", """{"description":"x"}""");
            data.Add($"POST /api/v1/models/churn/versions/{version}/stage", """{"stage":"Staging"}""");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadVersionRoutes))]
    public async Task a_version_in_the_route_that_is_not_a_whole_number_from_1_is_refused_with_400(string route, string? body)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(400, route, body);
        Assert.Contains("not a version number", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET /api/v1/modles")]
    [InlineData("GET /api/v1/models/churn/versions/1/artifact")]
    [InlineData("POST /api/v1/models/churn/promote")]
    public async Task a_path_no_endpoint_answers_is_refused_with_404(string route)
    {
        await GivenChurn(versions: 1);
        await Refused(404, route, "{}");
    }

    [Theory]
    [InlineData("POST /api/v1/models/churn")]
    [InlineData("PUT /api/v1/models/churn")]
    [InlineData("DELETE /api/v1/models")]
    [InlineData("POST /api/v1/models/churn/versions/1")]
    public async Task a_method_the_path_does_not_allow_is_refused_with_405(string route)
    {
        await GivenChurn(versions: 1);
        await Refused(405, route, "{}");
    }
}
