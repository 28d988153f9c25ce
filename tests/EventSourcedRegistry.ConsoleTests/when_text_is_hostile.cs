using EventSourcedRegistry.ConsoleTests.Support;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_text_is_hostile(ConsoleFixture console) : ConsoleTest(console)
{
    /// <summary>Script, an attribute break-out, a spreadsheet formula and a right-to-left override, in one text.</summary>
    public const string Hostile = "<script>alert('script')</script> \"><img src=x onerror=alert('img')> =cmd|' /C calc'!A0 \u202Eexe.pdf";

    [Fact]
    public async Task a_hostile_description_and_tag_render_as_their_literal_text_and_run_nothing()
    {
        var model = Unique("hostile");
        await RegisterModel(model, Hostile, new Dictionary<string, string> { ["note"] = Hostile });
        var (_, reader) = await KeyOfDefault(new { role = "reader" });

        var page = await SignIn(reader);
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        await page.GotoAsync($"/console/workspaces/default/registry?prefix={model}");
        var row = page.Locator("table.registry tbody tr", new() { HasText = model });
        Assert.Equal(Hostile, await row.Locator("td.description").InnerTextAsync());
        Assert.Equal("note: " + Hostile, (await row.Locator("td.tags").InnerTextAsync()).Trim());
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        Assert.Empty(dialogs);
        await AssertAccessible(page);

        // The reason of a promotion, on the model's timeline.
        var version = await RegisterVersion(model);
        await Promote(model, version, "Staging", Hostile);
        await row.Locator("th.model a").ClickAsync();
        await Reached(page, $"/models/{model}");
        Assert.Contains(Hostile, await page.Locator("table.timeline td.reason").AllInnerTextsAsync());
        Assert.Equal(Hostile, await page.Locator("p.description").InnerTextAsync());
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        Assert.Empty(dialogs);
        await AssertAccessible(page);
    }
}
