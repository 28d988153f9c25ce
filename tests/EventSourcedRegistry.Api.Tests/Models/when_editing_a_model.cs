using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.Tests.Models;

public sealed class when_editing_a_model(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task description_and_tags_change_in_the_view()
    {
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "growth", ["tier"] = "gold" });

        var response = await Host.Patch("/api/v1/models/churn", new
        {
            description = "Who leaves next month",
            setTags = new Dictionary<string, string> { ["team"] = "retention", ["pii"] = "none" },
            removeTags = new[] { "tier" },
        }).Ok();

        Assert.Equal("\"2\"", response.ETag);
        var model = await Host.Model("churn");
        Assert.Equal("Who leaves next month", model["description"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string> { ["team"] = "retention", ["pii"] = "none" },
            model["tags"]!.AsObject().ToDictionary(t => t.Key, t => t.Value!.GetValue<string>()));
        var edited = Assert.IsType<ModelMetadataEdited>((await Store.EventsOf("churn"))[^1].Data);
        Assert.Equal(["tier"], edited.RemovedTags);
    }

    [Fact]
    public async Task an_empty_description_clears_it()
    {
        await Host.Post("/api/v1/models", new { name = "churn", description = "old" }).Ok(201);

        await Host.Patch("/api/v1/models/churn", new { description = "" }).Ok();

        Assert.Null((await Host.Model("churn"))["description"]);
    }

    [Fact]
    public async Task a_patch_that_changes_nothing_answers_200_and_appends_nothing()
    {
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "growth" });

        var response = await Host.Patch("/api/v1/models/churn", new
        {
            setTags = new Dictionary<string, string> { ["team"] = "growth" },
            removeTags = new[] { "absent" },
        }).Ok();

        Assert.Equal("\"1\"", response.ETag);
        Assert.Equal("churn", response.Body!["name"]!.GetValue<string>());
        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task an_empty_patch_answers_200_and_appends_nothing()
    {
        await Host.RegisterModel("churn");

        await Host.Patch("/api/v1/models/churn", new { }).Ok();

        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_patch_of_an_unknown_model_is_404()
    {
        var response = await Host.Patch("/api/v1/models/nope", new { description = "x" });

        Assert.Equal(404, response.Status);
        Assert.Equal(0, await Store.RegistryEvents());
    }
}
