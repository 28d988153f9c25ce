using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Deployments;

public sealed class when_reporting_deployments(AppFixture app) : ApiTest(app)
{
    private Task<RegistryCalls.Response> Report(int version, string action, string environment = "production", string? target = "eu-1") =>
        Host.Post("/api/v1/models/churn/deployments", new { version, environment, target, action });

    [Fact]
    public async Task a_deployment_replacing_another_closes_its_interval_and_shows_on_the_version_views()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");

        Assert.Equal(200, (await Report(1, "deployed")).Status);
        Assert.Equal(200, (await Report(2, "deployed")).Status);

        var history = await Host.Get("/api/v1/models/churn/deployments?kind=deployment");
        var intervals = history.Body!["items"]!.AsArray().Select(i => i!).ToList();
        Assert.Equal([1, 2], intervals.Select(i => i["version"]!.GetValue<int>()));
        Assert.NotNull(intervals[0]["left"]);
        Assert.Null(intervals[1]["left"]);
        Assert.Equal("production", intervals[1]["environment"]!.GetValue<string>());
        Assert.Equal("eu-1", intervals[1]["target"]!.GetValue<string>());
        Assert.Empty((await Host.Get("/api/v1/models/churn/versions/1")).Body!["deployments"]!.AsArray());
        Assert.Equal("production/eu-1", (await Host.Get("/api/v1/models/churn/versions/2")).Body!["deployments"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task re_reporting_a_recorded_deployment_appends_nothing()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        Assert.Equal(200, (await Report(1, "deployed")).Status);
        var length = await Store.StreamLength("churn");

        Assert.Equal(200, (await Report(1, "deployed")).Status);

        Assert.Equal(length, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task undeploying_what_is_not_recorded_there_is_a_409_and_appends_nothing()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        Assert.Equal(200, (await Report(1, "deployed")).Status);
        var length = await Store.StreamLength("churn");

        var wrongVersion = await Report(2, "undeployed");
        var wrongSlot = await Report(1, "undeployed", target: "us-1");

        Assert.Equal(409, wrongVersion.Status);
        Assert.Equal(409, wrongSlot.Status);
        Assert.Equal(length, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task an_undeployment_closes_the_interval_and_the_registry_no_longer_lists_it()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        Assert.Equal(200, (await Report(1, "deployed")).Status);
        var deployedAt = await App.LastSequence();
        Assert.Equal(200, (await Report(1, "undeployed")).Status);
        await App.WaitForHighWaterMark();

        var then = await Host.Get($"/api/v1/registry?atSequence={deployedAt}");
        var now = await Host.Get("/api/v1/registry");

        Assert.Equal(1, then.Body!["items"]![0]!["deployments"]!["production/eu-1"]!.GetValue<int>());
        Assert.Empty(now.Body!["items"]![0]!["deployments"]!.AsObject());
    }

    [Theory]
    [InlineData("""{"version":1,"environment":"production","action":"launched"}""")]
    [InlineData("""{"version":1,"action":"deployed"}""")]
    [InlineData("""{"environment":"production","action":"deployed"}""")]
    [InlineData("""{"version":1,"environment":"prod/eu","action":"deployed"}""")]
    public async Task a_malformed_report_is_a_400_and_appends_nothing(string body)
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var length = await Store.StreamLength("churn");

        var response = await Host.Send(HttpMethod.Post, "/api/v1/models/churn/deployments", rawBody: body);

        Assert.Equal(400, response.Status);
        Assert.Equal(length, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_report_for_an_unknown_version_is_a_404()
    {
        await Host.RegisterModel("churn");

        var response = await Report(3, "deployed");

        Assert.Equal(404, response.Status);
        Assert.Equal(1, await Store.StreamLength("churn"));
    }
}
