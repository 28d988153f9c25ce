using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.WebConsole;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

/// <summary>Issue 15: every action is reachable by keyboard. No click below: Tab, typing and Enter only.</summary>
public sealed class when_using_the_console_by_keyboard(ConsoleFixture console) : ConsoleTest(console)
{
    /// <summary>More Tab presses than any console page has stops before its last control.</summary>
    private const int MaxTabs = 60;

    /// <summary>
    /// Tabs forward until the focused element matches <paramref name="selector"/>, and checks it shows a focus ring (an
    /// outline the keyboard's focus turned on); fails when Tab never gets there.
    /// </summary>
    private static async Task TabTo(IPage page, string selector)
    {
        for (var i = 0; i < MaxTabs; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>("s => document.activeElement !== null && document.activeElement.matches(s)", selector))
            {
                await AssertFocusVisible(page);
                return;
            }
        }
        Assert.Fail($"{page.Url}: {MaxTabs} presses of Tab never reached {selector}.");
    }

    /// <summary>The console's own ring (console.css), not the browser's default one, which would pass any page.</summary>
    private static async Task AssertFocusVisible(IPage page)
    {
        var ring = await page.EvaluateAsync<string>(
            "() => { const s = getComputedStyle(document.activeElement); return `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`; }");
        Assert.True(ring == "solid 3px rgb(255, 191, 71)", $"{page.Url}: the focused element shows not the console's focus ring but '{ring}'.");
    }

    [Fact]
    public async Task a_release_manager_signs_in_searches_opens_a_model_and_rolls_it_back_with_the_keyboard_only()
    {
        var model = Unique("kbd");
        await RegisterModel(model);
        var first = await RegisterVersion(model);
        await Promote(model, first, "Production", "first release");
        await Task.Delay(200);
        var instant = DateTimeOffset.UtcNow.ToString("O");
        await Task.Delay(200);
        var second = await RegisterVersion(model);
        await Promote(model, second, "Production", "second release");
        var (_, key) = await KeyOfDefault(new { role = "contributor" });

        // The stylesheet styles keyboard focus.
        var css = await (await Browser.APIRequest.GetAsync(ConsoleConfiguration.StylesheetPath)).TextAsync();
        Assert.Contains(":focus-visible", css);

        var page = await Browser.NewPageAsync();
        await page.GotoAsync("/console");
        await Reached(page, new Regex("/console/signin"));
        // The first stop of every page skips the header to the content.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to main content", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        await AssertFocusVisible(page);
        await TabTo(page, "#key");
        await page.Keyboard.TypeAsync(key);
        await page.Keyboard.PressAsync("Enter");
        await Reached(page, new Regex("/console/workspaces/default/registry"));

        // Past the header by the skip link, straight into the search.
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement.id === 'prefix'"), "the skip link did not lead to the search");
        await AssertFocusVisible(page);
        await page.Keyboard.TypeAsync(model);
        await page.Keyboard.PressAsync("Enter");
        await Reached(page, new Regex("prefix="));
        await TabTo(page, $"table.registry th.model a[href$='/models/{model}']");
        await page.Keyboard.PressAsync("Enter");
        await Reached(page, $"/models/{model}");

        await TabTo(page, "p.rollback-link a");
        await page.Keyboard.PressAsync("Enter");
        await Reached(page, $"/models/{model}/rollback");
        await TabTo(page, "#asOf");
        await page.Keyboard.TypeAsync(instant);
        await page.Keyboard.PressAsync("Enter");
        await Reached(page, new Regex("asOf="));
        await Assertions.Expect(page.Locator("table.plan tbody tr")).ToHaveCountAsync(2);
        await TabTo(page, "#reason");
        await page.Keyboard.TypeAsync("rolled back by keyboard");
        await TabTo(page, "form.confirm button[type=submit]");
        await page.Keyboard.PressAsync("Enter");
        await Reached(page, new Regex($"/models/{model}$"));

        var performed = page.Locator("table.timeline tbody tr", new() { HasText = "RollbackPerformed" });
        await Assertions.Expect(performed).ToHaveCountAsync(1);
        Assert.Equal("rolled back by keyboard", await performed.Locator("td.reason").InnerTextAsync());
    }
}
