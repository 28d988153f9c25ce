using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.ModelVersions;

public sealed class when_listing_model_versions(AppFixture app) : ApiTest(app)
{
    private static int[] Versions(RegistryCalls.Response page) =>
        page.Body!["items"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()).ToArray();

    [Fact]
    public async Task paging_by_cursor_visits_every_version_once_in_order()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 7; i++) await Host.RegisterVersion("churn");

        var seen = new List<int>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Host.Get("/api/v1/models/churn/versions?limit=3" + (cursor is null ? "" : $"&cursor={cursor}")).Ok();
            seen.AddRange(Versions(page));
            cursor = page.Body!["nextCursor"]?.GetValue<string>();
            pages++;
        } while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 7), seen);
    }

    [Fact]
    public async Task a_stage_filter_keeps_the_versions_in_that_stage()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 4; i++) await Host.RegisterVersion("churn");
        await Host.Promote("churn", 2, "Production").Ok();
        await Host.Promote("churn", 4, "Production").Ok();
        await Host.Promote("churn", 3, "Staging").Ok();

        Assert.Equal(new[] { 2, 4 }, Versions(await Host.Get("/api/v1/models/churn/versions?stage=Production").Ok()));
        Assert.Equal(new[] { 3 }, Versions(await Host.Get("/api/v1/models/churn/versions?stage=staging").Ok()));
        Assert.Equal(new[] { 1 }, Versions(await Host.Get("/api/v1/models/churn/versions?stage=None").Ok()));
        var paged = await Host.Get("/api/v1/models/churn/versions?stage=Production&limit=1").Ok();
        Assert.Equal([2], Versions(paged));
        var next = await Host.Get($"/api/v1/models/churn/versions?stage=Production&limit=1&cursor={paged.Body!["nextCursor"]!.GetValue<string>()}").Ok();
        Assert.Equal([4], Versions(next));
    }

    [Fact]
    public async Task the_list_carries_the_models_revision_as_etag()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");

        Assert.Equal("\"2\"", (await Host.Get("/api/v1/models/churn/versions").Ok()).ETag);
    }

    [Fact]
    public async Task versions_of_an_unknown_model_are_404()
    {
        Assert.Equal(404, (await Host.Get("/api/v1/models/nope/versions")).Status);
    }

    [Fact]
    public async Task an_unknown_stage_is_400()
    {
        await Host.RegisterModel("churn");

        Assert.Equal(400, (await Host.Get("/api/v1/models/churn/versions?stage=Nowhere")).Status);
    }
}
