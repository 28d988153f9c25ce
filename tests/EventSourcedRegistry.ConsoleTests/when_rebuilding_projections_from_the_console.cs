using System.Diagnostics;
using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_rebuilding_projections_from_the_console(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task an_admin_starts_a_rebuild_follows_it_to_the_end_and_the_views_are_unchanged()
    {
        var (ws, admin, _) = await WorkspaceWithKey("admin");
        var api = $"/api/v1/workspaces/{ws}";
        var models = new[] { Unique("churn"), Unique("fraud"), Unique("ltv") };
        foreach (var model in models)
        {
            await RegisterModel(model, prefix: api, key: admin);
            var version = await RegisterVersion(model, api, admin);
            await Promote(model, version, "Staging", "evaluated", api, admin);
        }

        var page = await SignIn(admin);
        var before = await page.Locator("table.registry tbody tr").AllInnerTextsAsync();
        Assert.Equal(models.Length, before.Count);
        await page.Locator("nav.admin a").ClickAsync();
        await page.Locator("nav.subnav a", new() { HasText = "Projections" }).ClickAsync();
        await Reached(page, $"/console/workspaces/{ws}/admin/projections");
        Assert.Contains("ModelView", await page.Locator("table.projections tbody th.name").AllInnerTextsAsync());
        Assert.Contains("No rebuild", await page.Locator("p.rebuild-state").InnerTextAsync());
        await AssertAccessible(page);

        // Every projection (the form's default), followed by reading the page again until it ends.
        await page.Locator("form.rebuild button[type=submit]").ClickAsync();
        await Reached(page, new Regex("started="));
        var deadline = Stopwatch.StartNew();
        while (await page.Locator("p.rebuild-state .state").InnerTextAsync() == "running" && deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            Assert.Equal(0, await page.Locator("form.rebuild").CountAsync());
            Assert.Matches(@"^[\d,]+ of [\d,]+ events", await page.Locator("p.rebuild-state .progress").InnerTextAsync());
            await Task.Delay(200);
            await page.Locator("a.refresh").ClickAsync();
            await Loaded(page);
        }
        var state = await page.Locator("p.rebuild-state").InnerTextAsync();
        Assert.True(await page.Locator("p.rebuild-state .state").InnerTextAsync() == "succeeded", state);
        Assert.Contains("finished", state);
        var differences = await page.Locator("table.reports td.differences").AllInnerTextsAsync();
        Assert.NotEmpty(differences);
        Assert.All(differences, d => Assert.Equal("0", d));
        Assert.Equal(1, await page.Locator("form.rebuild").CountAsync());
        await AssertAccessible(page);

        // The views read as before.
        await page.GotoAsync($"/console/workspaces/{ws}/registry");
        Assert.Equal(before, await page.Locator("table.registry tbody tr").AllInnerTextsAsync());
        await page.GotoAsync($"/console/workspaces/{ws}/models/{models[0]}");
        Assert.Equal("Staging", await page.Locator("table.versions tbody tr td.stage").InnerTextAsync());
    }
}
