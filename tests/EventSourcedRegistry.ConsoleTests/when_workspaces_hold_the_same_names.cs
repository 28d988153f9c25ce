using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_workspaces_hold_the_same_names(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task a_key_of_one_workspace_sees_nothing_of_the_other()
    {
        var a = await WorkspaceWithKey("reader");
        var b = await WorkspaceWithKey("reader");
        await RegisterModel("churn", "held in A", prefix: $"/api/v1/workspaces/{a.Slug}", key: a.Admin);
        await RegisterModel("churn", "held in B", prefix: $"/api/v1/workspaces/{b.Slug}", key: b.Admin);

        var page = await SignIn(a.Key);
        Assert.EndsWith($"/console/workspaces/{a.Slug}/registry", page.Url);
        var row = page.Locator("table.registry tbody tr", new() { HasText = "churn" });
        Assert.Equal("held in A", await row.Locator("td.description").InnerTextAsync());
        // The switcher lists the caller's workspaces only.
        Assert.Equal([a.Slug], await page.Locator("nav.workspaces li").AllInnerTextsAsync());
        Assert.DoesNotContain(b.Slug, await page.ContentAsync());

        // B's pages answer exactly what a workspace that does not exist answers.
        var other = await page.GotoAsync($"/console/workspaces/{b.Slug}/registry");
        var otherBody = await other!.TextAsync();
        var missing = await page.GotoAsync($"/console/workspaces/{Unique("ws")}/registry");
        Assert.Equal(404, other.Status);
        Assert.Equal(404, missing!.Status);
        // Equal but for the trace id every answer carries.
        Assert.Equal(WithoutTraceId(await missing.TextAsync()), WithoutTraceId(otherBody));
        Assert.DoesNotContain("held in B", otherBody);
        var pastOther = await page.GotoAsync($"/console/workspaces/{b.Slug}/registry?asOf=2020-01-01T00:00:00Z");
        Assert.Equal(404, pastOther!.Status);
    }
}
