using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_signing_out_of_a_workspace(ConsoleFixture console) : ConsoleTest(console)
{
    /// <summary>
    /// Guards the antiforgery token's user id: it was a hash of the principal's claims, which are the key's grants for
    /// the page's workspace, so the sign-out form of any workspace but default was refused (400) at /console/signout.
    /// </summary>
    [Fact]
    public async Task the_sign_out_button_of_a_workspace_other_than_default_ends_the_session()
    {
        var (slug, key, _) = await WorkspaceWithKey("reader");
        var page = await SignIn(key);
        Assert.Contains($"/console/workspaces/{slug}/registry", page.Url);
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        Assert.DoesNotContain(await Browser.CookiesAsync(), c => c.Name == "esr-console");
    }
}
