using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Models;

public sealed class when_archiving_a_model(AppFixture app) : ApiTest(app)
{
    private async Task ArchivedChurn()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Post("/api/v1/models/churn/archive", new { reason = "retired" }).Ok();
    }

    [Fact]
    public async Task commands_are_refused_with_409_and_append_nothing()
    {
        await ArchivedChurn();

        var refused = new[]
        {
            await Host.RegisterVersionWith("churn"),
            await Host.Promote("churn", 1, "Staging"),
            await Host.Patch("/api/v1/models/churn", new { description = "x" }),
            await Host.Patch("/api/v1/models/churn/versions/1", new { description = "x" }),
            await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1 }),
            await Host.Post("/api/v1/models/churn/rename", new { newName = "other" }),
            await Host.Post("/api/v1/models/churn/archive", new { }),
        };

        Assert.All(refused, r => Assert.Equal(409, r.Status));
        Assert.Contains("archived", refused[0].Body!["detail"]!.GetValue<string>());
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task reads_still_work()
    {
        await ArchivedChurn();

        var model = await Host.Model("churn");

        Assert.True(model["archived"]!.GetValue<bool>());
        await Host.Get("/api/v1/models/churn/versions/1").Ok();
        await Host.Get("/api/v1/models/churn/versions").Ok();
        await Host.Get("/api/v1/models/churn/aliases/latest").Ok();
        await Host.Get("/api/v1/models/churn/history").Ok();
    }

    [Fact]
    public async Task the_list_hides_it_unless_archived_models_are_asked_for()
    {
        await ArchivedChurn();
        await Host.RegisterModel("fraud");

        var listed = await Host.Get("/api/v1/models").Ok();
        var all = await Host.Get("/api/v1/models?includeArchived=true").Ok();

        Assert.Equal(["fraud"], listed.Body!["items"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
        Assert.Equal(["churn", "fraud"], all.Body!["items"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task restoring_makes_it_accept_commands_and_list_again()
    {
        await ArchivedChurn();

        var restored = await Host.Post("/api/v1/models/churn/restore", new { }).Ok();

        Assert.False(restored.Body!["archived"]!.GetValue<bool>());
        Assert.Equal(2, await Host.RegisterVersion("churn"));
        var listed = await Host.Get("/api/v1/models").Ok();
        Assert.Single(listed.Body!["items"]!.AsArray());
    }

    [Fact]
    public async Task restoring_a_model_that_is_not_archived_is_409()
    {
        await Host.RegisterModel("churn");

        var response = await Host.Post("/api/v1/models/churn/restore", new { });

        Assert.Equal(409, response.Status);
        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task archiving_needs_no_body()
    {
        await Host.RegisterModel("churn");

        var response = await Host.Send(HttpMethod.Post, "/api/v1/models/churn/archive");

        Assert.Equal(200, response.Status);
        Assert.Equal(2, await Store.StreamLength("churn"));
    }
}
