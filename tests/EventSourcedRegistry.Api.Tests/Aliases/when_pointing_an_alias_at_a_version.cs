using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.Tests.Aliases;

public sealed class when_pointing_an_alias_at_a_version(AppFixture app) : ApiTest(app)
{
    private async Task ChurnWithTwoVersions()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn", RegistryCalls.Sha256B);
    }

    private static string[] AliasesOf(RegistryCalls.Response version) =>
        version.Body!["aliases"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();

    [Fact]
    public async Task the_alias_resolves_to_its_version_with_the_alias_listed()
    {
        await ChurnWithTwoVersions();

        var assigned = await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();

        Assert.Equal(2, assigned.Body!["version"]!.GetValue<int>());
        var resolved = await Host.Get("/api/v1/models/churn/aliases/champion").Ok();
        Assert.Equal(2, resolved.Body!["version"]!.GetValue<int>());
        Assert.Equal(["champion"], AliasesOf(resolved));
        Assert.Equal(2, (await Host.Model("churn"))["aliases"]!["champion"]!.GetValue<int>());
    }

    [Fact]
    public async Task moving_the_alias_records_the_previous_version_and_takes_it_off_the_old_version()
    {
        await ChurnWithTwoVersions();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();

        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1, reason = "roll back" }).Ok();

        var moved = Assert.IsType<ModelAliasAssigned>((await Store.EventsOf("churn"))[^1].Data);
        Assert.Equal(("champion", 1, (int?)2), (moved.Alias, moved.Version, moved.PreviousVersion));
        Assert.Empty(AliasesOf(await Host.Get("/api/v1/models/churn/versions/2").Ok()));
        Assert.Equal(["champion"], AliasesOf(await Host.Get("/api/v1/models/churn/versions/1").Ok()));
        Assert.Equal(1, (await Host.Get("/api/v1/models/churn/aliases/champion").Ok()).Body!["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task a_first_assignment_has_no_previous_version()
    {
        await ChurnWithTwoVersions();

        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();

        var assigned = Assert.IsType<ModelAliasAssigned>((await Store.EventsOf("churn"))[^1].Data);
        Assert.Null(assigned.PreviousVersion);
    }

    [Fact]
    public async Task deleting_the_alias_removes_it_everywhere()
    {
        await ChurnWithTwoVersions();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();

        await Host.Delete("/api/v1/models/churn/aliases/champion").Ok(204);

        Assert.Equal(404, (await Host.Get("/api/v1/models/churn/aliases/champion")).Status);
        Assert.Empty(AliasesOf(await Host.Get("/api/v1/models/churn/versions/2").Ok()));
        Assert.Null((await Host.Model("churn"))["aliases"]!["champion"]);
        Assert.IsType<ModelAliasRemoved>((await Store.EventsOf("churn"))[^1].Data);
    }

    [Fact]
    public async Task deleting_an_alias_that_is_not_set_is_404_and_appends_nothing()
    {
        await ChurnWithTwoVersions();

        var response = await Host.Delete("/api/v1/models/churn/aliases/champion");

        Assert.Equal(404, response.Status);
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task latest_and_numbered_aliases_resolve_without_being_set()
    {
        await ChurnWithTwoVersions();

        Assert.Equal(2, (await Host.Get("/api/v1/models/churn/aliases/latest").Ok()).Body!["version"]!.GetValue<int>());
        Assert.Equal(1, (await Host.Get("/api/v1/models/churn/aliases/v1").Ok()).Body!["version"]!.GetValue<int>());
        Assert.Equal(404, (await Host.Get("/api/v1/models/churn/aliases/v3")).Status);
    }

    [Fact]
    public async Task reassigning_the_same_version_changes_nothing()
    {
        await ChurnWithTwoVersions();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();

        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();

        Assert.Equal(4, await Store.StreamLength("churn"));
    }
}
