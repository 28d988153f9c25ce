using EventSourcedRegistry.ConsoleTests.Support;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_a_key_is_narrow(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task a_reader_sees_no_command_buttons()
    {
        var model = Unique("readonly");
        await RegisterModel(model, "a model");
        var (_, reader) = await KeyOfDefault(new { role = "reader" });

        var page = await SignIn(reader);
        await page.GotoAsync($"/console/workspaces/default/registry?prefix={model}");
        Assert.Equal(1, await page.Locator("table.registry tbody tr").CountAsync());
        // The one form that changes anything is the session's own sign-out; every other form is a GET search.
        Assert.Equal(["Sign out"], await page.Locator("form[method=post] button").AllInnerTextsAsync());
        Assert.Equal(0, await page.Locator("main form[method=post]").CountAsync());
    }

    [Fact]
    public async Task a_key_scoped_to_one_model_sees_that_model_and_no_other_name_or_count()
    {
        var mine = Unique("mine");
        var theirs = Unique("theirs");
        await RegisterModel(mine);
        await RegisterModel(theirs);
        var (_, scoped) = await KeyOfDefault(new { role = "reader", model = mine });

        var page = await SignIn(scoped);
        Assert.Equal(new[] { mine }, (await page.Locator("table.registry tbody th.model").AllInnerTextsAsync()).Select(t => t.Trim()).ToArray());
        Assert.Equal(0, await page.Locator("form.filters").CountAsync());
        var html = await page.ContentAsync();
        Assert.DoesNotContain(theirs, html);
        // Not through an as-of link either.
        await page.GotoAsync("/console/workspaces/default/registry?asOf=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O")));
        Assert.DoesNotContain(theirs, await page.ContentAsync());
        Assert.Equal(0, await page.Locator("table.registry").CountAsync());

        // Its own model's page opens; another model's page answers as a model that does not exist.
        Assert.Equal(200, (await page.GotoAsync($"/console/workspaces/default/models/{mine}"))!.Status);
        var other = await page.GotoAsync($"/console/workspaces/default/models/{theirs}");
        var otherBody = await other!.TextAsync();
        var missing = await page.GotoAsync($"/console/workspaces/default/models/{Unique("nothing")}");
        Assert.Equal(404, other.Status);
        Assert.Equal(404, missing!.Status);
        Assert.Equal(WithoutTraceId(await missing.TextAsync()), WithoutTraceId(otherBody));
        Assert.DoesNotContain(theirs, otherBody);
    }
}
