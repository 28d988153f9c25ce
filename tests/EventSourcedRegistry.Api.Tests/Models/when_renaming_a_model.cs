using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.Tests.Models;

public sealed class when_renaming_a_model(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task the_new_name_resolves_and_the_old_one_is_404()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");

        var response = await Host.Post("/api/v1/models/churn/rename", new { newName = "customer-churn" }).Ok();

        Assert.Equal("/api/v1/models/customer-churn", response.Raw.Headers.Location!.ToString());
        Assert.Equal(404, (await Host.Get("/api/v1/models/churn")).Status);
        Assert.Equal("customer-churn", (await Host.Model("customer-churn"))["name"]!.GetValue<string>());
        var version = await Host.Get("/api/v1/models/customer-churn/versions/1").Ok();
        Assert.Equal("customer-churn", version.Body!["model"]!.GetValue<string>());
        Assert.Equal(404, (await Host.Get("/api/v1/models/churn/versions/1")).Status);
    }

    [Fact]
    public async Task history_continues_on_the_same_stream()
    {
        await Host.RegisterModel("churn");
        var id = await Store.ModelId("churn");

        await Host.Post("/api/v1/models/churn/rename", new { newName = "customer-churn" }).Ok();
        await Host.RegisterVersion("customer-churn");

        Assert.Equal(id, await Store.ModelId("customer-churn"));
        Assert.Equal(id, Guid.Parse((await Host.Model("customer-churn"))["id"]!.GetValue<string>()));
        var history = await Host.Get("/api/v1/models/customer-churn/history").Ok();
        Assert.Equal(["ModelRegistered", "ModelRenamed", "ModelVersionRegistered"],
            history.Body!["items"]!.AsArray().Select(i => i!["type"]!.GetValue<string>()));
        var renamed = Assert.IsType<ModelRenamed>((await Store.EventsOf("customer-churn"))[1].Data);
        Assert.Equal(("churn", "customer-churn"), (renamed.OldName, renamed.NewName));
    }

    [Fact]
    public async Task the_old_name_is_free_for_a_new_model()
    {
        await Host.RegisterModel("churn");
        await Host.Post("/api/v1/models/churn/rename", new { newName = "customer-churn" }).Ok();

        await Host.RegisterModel("churn");

        Assert.NotEqual(await Store.ModelId("churn"), await Store.ModelId("customer-churn"));
    }

    [Fact]
    public async Task commands_by_the_old_name_are_404_and_a_new_model_under_it_takes_them()
    {
        // Commands resolve names through a cache; these commands by "churn" put it there before the rename.
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Staging").Ok();
        await Host.Post("/api/v1/models/churn/rename", new { newName = "customer-churn" }).Ok();

        var stale = await Host.RegisterVersionWith("churn");
        Assert.Equal(404, stale.Status);
        Assert.Equal(404, (await Host.Promote("CHURN", 1, "Production")).Status);
        Assert.Equal(4, await Store.StreamLength("customer-churn"));

        await Host.RegisterModel("Churn");
        Assert.Equal(1, await Host.RegisterVersion("churn"));
        await Host.Promote("churn", 1, "Production").Ok();

        Assert.Equal(3, await Store.StreamLength("churn"));
        Assert.Equal(4, await Store.StreamLength("customer-churn"));
        Assert.Equal(1, (await Host.Model("customer-churn"))["latestVersion"]!.GetValue<int>());
        Assert.Equal("Staging", (await Host.Get("/api/v1/models/customer-churn/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
        Assert.Equal("Production", (await Host.Get("/api/v1/models/churn/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_model_renamed_back_takes_commands_by_its_name_again()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Post("/api/v1/models/churn/rename", new { newName = "retention" }).Ok();
        await Host.RegisterVersion("retention");
        await Host.Post("/api/v1/models/retention/rename", new { newName = "churn" }).Ok();

        Assert.Equal(404, (await Host.RegisterVersionWith("retention")).Status);
        Assert.Equal(3, await Host.RegisterVersion("churn"));
    }

    [Fact]
    public async Task renaming_to_a_taken_name_is_409_and_appends_nothing()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");

        var response = await Host.Post("/api/v1/models/churn/rename", new { newName = "FRAUD" });

        Assert.Equal(409, response.Status);
        Assert.Contains("already exists", response.Body!["detail"]!.GetValue<string>());
        Assert.Equal(2, await Store.RegistryEvents());
        Assert.Equal(200, (await Host.Get("/api/v1/models/churn")).Status);
    }

    [Fact]
    public async Task a_case_only_rename_keeps_the_model_and_its_name_claim()
    {
        await Host.RegisterModel("churn");

        var response = await Host.Post("/api/v1/models/churn/rename", new { newName = "Churn" }).Ok();

        Assert.Equal("Churn", response.Body!["name"]!.GetValue<string>());
        Assert.Equal("Churn", (await Host.Model("churn"))["name"]!.GetValue<string>());
        Assert.Equal("Churn", (await Host.Model("CHURN"))["name"]!.GetValue<string>());
        Assert.Equal(2, await Store.StreamLength("churn"));
        Assert.Equal(409, (await Host.Post("/api/v1/models", new { name = "churn" })).Status);
    }

    [Fact]
    public async Task renaming_to_the_same_name_changes_nothing()
    {
        await Host.RegisterModel("churn");

        await Host.Post("/api/v1/models/churn/rename", new { newName = "churn" }).Ok();

        Assert.Equal(1, await Store.StreamLength("churn"));
    }
}
