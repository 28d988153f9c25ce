using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Models;

public sealed class when_listing_models(AppFixture app) : ApiTest(app)
{
    private static string[] Names(RegistryCalls.Response page) =>
        page.Body!["items"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ToArray();

    [Fact]
    public async Task paging_by_cursor_visits_every_model_once_in_name_order()
    {
        var names = Enumerable.Range(1, 25).Select(i => $"model-{i:00}").ToArray();
        var shuffled = names.ToArray();
        new Random(25).Shuffle(shuffled);
        foreach (var name in shuffled) await Host.RegisterModel(name);

        var seen = new List<string>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await Host.Get("/api/v1/models?limit=10" + (cursor is null ? "" : $"&cursor={cursor}")).Ok();
            seen.AddRange(Names(page));
            cursor = page.Body!["nextCursor"]?.GetValue<string>();
            pages++;
        } while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(names, seen);
    }

    [Fact]
    public async Task the_name_order_ignores_case()
    {
        await Host.RegisterModel("beta");
        await Host.RegisterModel("Alpha");
        await Host.RegisterModel("Gamma");

        Assert.Equal(["Alpha", "beta", "Gamma"], Names(await Host.Get("/api/v1/models").Ok()));
    }

    [Fact]
    public async Task a_prefix_keeps_the_models_whose_name_starts_with_it_in_any_case()
    {
        foreach (var name in new[] { "fraud-card", "Fraud-wire", "churn", "fraudulent", "antifraud" }) await Host.RegisterModel(name);

        Assert.Equal(["fraud-card", "Fraud-wire"], Names(await Host.Get("/api/v1/models?prefix=fraud-").Ok()));
        Assert.Equal(["fraud-card", "Fraud-wire", "fraudulent"], Names(await Host.Get("/api/v1/models?prefix=FRAUD").Ok()));
    }

    [Fact]
    public async Task a_prefix_with_like_wildcards_matches_them_literally()
    {
        await Host.RegisterModel("a_b");
        await Host.RegisterModel("axb");

        Assert.Equal(["a_b"], Names(await Host.Get("/api/v1/models?prefix=a_").Ok()));
    }

    [Fact]
    public async Task a_tag_filter_keeps_the_models_with_that_tag_value()
    {
        await Host.RegisterModel("card", new Dictionary<string, string> { ["team"] = "fraud" });
        await Host.RegisterModel("wire", new Dictionary<string, string> { ["team"] = "fraud", ["tier"] = "gold" });
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "growth" });
        await Host.RegisterModel("untagged");

        Assert.Equal(["card", "wire"], Names(await Host.Get("/api/v1/models?tag=team:fraud").Ok()));
        Assert.Equal(["wire"], Names(await Host.Get("/api/v1/models?tag=team:fraud&tag=tier:gold").Ok()));
    }

    [Fact]
    public async Task a_tag_filter_follows_tag_edits_renames_and_archiving()
    {
        var longValue = new string('v', 5000);
        await Host.RegisterModel("card", new Dictionary<string, string> { ["team"] = "fraud" });
        await Host.RegisterModel("wire", new Dictionary<string, string> { ["team"] = "fraud", ["note"] = longValue });

        await Host.Patch("/api/v1/models/card", new { setTags = new { team = "risk", tier = "gold" } }).Ok();
        await Host.Post("/api/v1/models/wire/rename", new { newName = "Aardvark" }).Ok();

        Assert.Equal(["Aardvark"], Names(await Host.Get("/api/v1/models?tag=team:fraud").Ok()));
        Assert.Equal(["card"], Names(await Host.Get("/api/v1/models?tag=team:risk").Ok()));
        Assert.Equal(["Aardvark"], Names(await Host.Get($"/api/v1/models?tag=note:{longValue}").Ok()));
        Assert.Empty(Names(await Host.Get("/api/v1/models?tag=note:v").Ok()));
        Assert.Equal(["Aardvark"], Names(await Host.Get("/api/v1/models?tag=team:fraud&prefix=aard").Ok()));

        await Host.Patch("/api/v1/models/card", new { removeTags = new[] { "tier" } }).Ok();
        Assert.Empty(Names(await Host.Get("/api/v1/models?tag=tier:gold").Ok()));

        await Host.Post("/api/v1/models/aardvark/archive", new { }).Ok();
        Assert.Empty(Names(await Host.Get("/api/v1/models?tag=team:fraud").Ok()));
        Assert.Equal(["Aardvark"], Names(await Host.Get("/api/v1/models?tag=team:fraud&includeArchived=true").Ok()));
    }

    [Fact]
    public async Task a_stage_filter_keeps_only_models_with_a_version_in_that_stage()
    {
        await Host.RegisterModel("card");
        await Host.RegisterVersion("card");
        await Host.Promote("card", 1, "Production").Ok();
        await Host.RegisterModel("wire");
        await Host.RegisterVersion("wire");
        await Host.Promote("wire", 1, "Staging").Ok();
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production").Ok();
        await Host.Promote("churn", 1, "Archived").Ok();
        await Host.RegisterModel("empty");

        Assert.Equal(["card"], Names(await Host.Get("/api/v1/models?stage=Production").Ok()));
        Assert.Equal(["card"], Names(await Host.Get("/api/v1/models?stage=production").Ok()));
        Assert.Equal(["wire"], Names(await Host.Get("/api/v1/models?stage=Staging").Ok()));
    }

    [Fact]
    public async Task filters_combine_with_paging()
    {
        for (var i = 1; i <= 5; i++)
            await Host.RegisterModel($"fraud-{i}", new Dictionary<string, string> { ["team"] = i % 2 == 0 ? "fraud" : "other" });
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "fraud" });

        var first = await Host.Get("/api/v1/models?prefix=fraud&tag=team:other&limit=2").Ok();
        var cursor = first.Body!["nextCursor"]!.GetValue<string>();
        var second = await Host.Get($"/api/v1/models?prefix=fraud&tag=team:other&limit=2&cursor={cursor}").Ok();

        Assert.Equal(["fraud-1", "fraud-3"], Names(first));
        Assert.Equal(["fraud-5"], Names(second));
        Assert.Null(second.Body!["nextCursor"]);
    }

    [Fact]
    public async Task bad_filters_are_400()
    {
        Assert.Equal(400, (await Host.Get("/api/v1/models?stage=Nowhere")).Status);
        Assert.Equal(400, (await Host.Get("/api/v1/models?tag=nocolon")).Status);
        Assert.Equal(400, (await Host.Get("/api/v1/models?limit=0")).Status);
        Assert.Equal(400, (await Host.Get("/api/v1/models?cursor=!!!")).Status);
    }

    [Fact]
    public async Task an_empty_registry_lists_nothing()
    {
        var page = await Host.Get("/api/v1/models").Ok();

        Assert.Empty(page.Body!["items"]!.AsArray());
        Assert.Null(page.Body["nextCursor"]);
    }
}
