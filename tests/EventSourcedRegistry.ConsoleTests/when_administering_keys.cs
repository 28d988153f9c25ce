using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_administering_keys(ConsoleFixture console) : ConsoleTest(console)
{
    /// <summary>An owner the API accepts (no control or formatting characters) that is markup if a page wrote it as such.</summary>
    private const string HostileOwner = "<script>alert('owner')</script> \"><img src=x onerror=alert('img')> =cmd|' /C calc'!A0";

    /// <summary>A second browser (its own cookies): another person's session beside the admin's.</summary>
    private async Task<IPage> SignInElsewhere(string key)
    {
        var context = await Console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Console.BaseAddress.ToString() });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/signin");
        await page.Locator("#key").FillAsync(key);
        await page.Locator("form.signin button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/workspaces/[^/]+/registry"));
        return page;
    }

    /// <summary>The page's markup once it stopped navigating (going back to a POST's answer may post it again).</summary>
    private static async Task<string> Settled(IPage page)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await Loaded(page);
                return await page.ContentAsync();
            }
            catch (PlaywrightException) when (attempt < 40)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>The create form as a page would post it, by the page's session, with or without the form's token.</summary>
    private static async Task<IAPIResponse> PostCreate(IPage page, string ws, string name, string role, string? model = null, bool withToken = true)
    {
        var form = page.APIRequest.CreateFormData();
        form.Set("KeyName", name);
        form.Set("Owner", "forger");
        form.Set("Grants[0].Role", role);
        form.Set("Grants[0].Model", model ?? "");
        if (withToken) form.Set("__RequestVerificationToken", await page.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value") ?? "");
        return await page.APIRequest.PostAsync($"/console/workspaces/{ws}/admin/keys?handler=create", new() { Form = form, MaxRedirects = 0 });
    }

    private async Task<List<string>> KeyNames(string ws, string admin)
    {
        var keys = await Call(HttpMethod.Get, $"/api/v1/workspaces/{ws}/admin/keys", key: admin);
        Assert.True(keys.Status == 200, $"{keys.Status} {keys.Body}");
        return keys.Body!["items"]!.AsArray().Select(k => k!["name"]!.GetValue<string>()).ToList();
    }

    [Fact]
    public async Task an_admin_makes_a_model_scoped_key_sees_its_secret_once_and_revokes_it()
    {
        var (ws, admin, _) = await WorkspaceWithKey("admin");
        var api = $"/api/v1/workspaces/{ws}";
        var mine = Unique("mine");
        var theirs = Unique("theirs");
        await RegisterModel(mine, prefix: api, key: admin);
        await RegisterModel(theirs, prefix: api, key: admin);

        var page = await SignIn(admin);
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.AcceptAsync();
        };
        await page.Locator("nav.admin a").ClickAsync();
        await Reached(page, $"/console/workspaces/{ws}/admin/keys");
        await AssertAccessible(page);

        // Made through the form: a reader of one model, owned by a hostile text.
        var name = Unique("scoped");
        await page.Locator("#key-name").FillAsync(name);
        await page.Locator("#key-owner").FillAsync(HostileOwner);
        await page.Locator("#grant-role-0").SelectOptionAsync("reader");
        await page.Locator("#grant-model-0").FillAsync(mine);
        await page.Locator("#key-reason").FillAsync("the dashboard reads one model");
        var answer = await page.RunAndWaitForResponseAsync(() => page.Locator("form.create button[type=submit]").ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.Contains("/admin/keys"));
        Assert.Equal(200, answer.Status);
        Assert.Contains("no-store", (await answer.AllHeadersAsync())["cache-control"]);
        var secret = await page.Locator("section.created input.secret").InputValueAsync();
        Assert.StartsWith("esr_", secret);
        Assert.DoesNotContain(secret, page.Url);
        Assert.Equal(HostileOwner, await page.Locator("section.created .owner").InnerTextAsync());
        var row = page.Locator("table.keys tbody tr", new() { HasText = name });
        Assert.Equal(HostileOwner, await row.Locator("td.owner").InnerTextAsync());
        Assert.Equal($"reader of {mine}", (await row.Locator("td.grants").InnerTextAsync()).Trim());
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        await AssertAccessible(page);

        // Shown once: not after a reload (the repeated POST finds the name taken), not on the list, not going back.
        await page.ReloadAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync());
        Assert.Equal(0, await page.Locator("section.created").CountAsync());
        Assert.Contains("Name taken", await page.Locator("p.problem").InnerTextAsync());
        await page.GotoAsync($"/console/workspaces/{ws}/admin/keys");
        Assert.DoesNotContain(secret, await page.ContentAsync());
        try { await page.GoBackAsync(); }
        catch (PlaywrightException) { /* no-store: the browser may refuse to show the POST's answer again at all */ }
        Assert.DoesNotContain(secret, await Settled(page));
        Assert.DoesNotContain(secret, Console.Api.Output);
        Assert.Empty(dialogs);

        // The key signs in and reads its model only; it sees no admin link and the admin pages refuse it, naming nothing.
        var scoped = await SignInElsewhere(secret);
        Assert.Equal([mine], (await scoped.Locator("table.registry tbody th.model").AllInnerTextsAsync()).Select(t => t.Trim()).ToArray());
        Assert.DoesNotContain(theirs, await scoped.ContentAsync());
        Assert.Equal(0, await scoped.Locator("nav.admin").CountAsync());
        var others = (await KeyNames(ws, admin)).Where(k => k != name).ToList();
        Assert.NotEmpty(others);
        foreach (var path in new[] { "admin/keys", "admin/projections" })
        {
            var refused = await scoped.GotoAsync($"/console/workspaces/{ws}/{path}");
            Assert.Equal(403, refused!.Status);
            Assert.Contains("lacks the role this call needs (admin, registry-wide)", await scoped.Locator("p.problem").InnerTextAsync());
            var html = await scoped.ContentAsync();
            // No key's name but its own (the header's actor), and no owner.
            Assert.All(others, k => Assert.DoesNotContain(k, html));
            Assert.DoesNotContain("onerror", html);
            Assert.Equal(0, await scoped.Locator("main form, main table").CountAsync());
        }
        await scoped.GotoAsync($"/console/workspaces/{ws}/registry");

        // Revoked after a confirmation step: the key's session is refused at its next request.
        await page.GotoAsync($"/console/workspaces/{ws}/admin/keys");
        await page.Locator("table.keys tbody tr", new() { HasText = name }).Locator("td.action a").ClickAsync();
        await Reached(page, new Regex("revoke="));
        Assert.Contains(name, await page.Locator("section.confirm h2").InnerTextAsync());
        await AssertAccessible(page);
        await page.Locator("#revoke-reason").FillAsync("the dashboard is retired");
        await page.Locator("form.revoke button[type=submit]").ClickAsync();
        await Reached(page, new Regex("revoked="));
        Assert.Contains(name, await page.Locator("p.done").InnerTextAsync());
        Assert.StartsWith("revoked", (await page.Locator("table.keys tbody tr", new() { HasText = name }).Locator("td.state").InnerTextAsync()).Trim());
        await scoped.ReloadAsync();
        Assert.Contains("/console/signin", scoped.Url);
        var revoked = await Call(HttpMethod.Get, $"{api}/models/{mine}", key: secret);
        Assert.Equal(401, revoked.Status);
        await scoped.Context.DisposeAsync();
    }

    [Fact]
    public async Task readers_and_auditors_see_no_admin_link_and_the_console_refuses_what_the_api_refuses()
    {
        var a = await WorkspaceWithKey("reader");
        var b = await WorkspaceWithKey("reader");
        var (auditor, _) = await KeyIn(a.Slug, a.Admin, new { role = "auditor" });
        // A platform key: admin of A, reader of B (listed in both workspaces' keys, with its grant there).
        var platformName = Unique("a-admin");
        var made = await Call(HttpMethod.Post, "/api/v1/platform/keys", new
        {
            name = platformName, owner = Unique("owner"),
            grants = new object[] { new { role = "admin", workspace = a.Slug }, new { role = "reader", workspace = b.Slug } },
        });
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        var keysOfA = await KeyNames(a.Slug, a.Admin);
        var keysOfB = await KeyNames(b.Slug, b.Admin);

        // A reader and an auditor: no link, and both admin pages answer the API's refusal with no key's name.
        foreach (var key in new[] { a.Key, auditor })
        {
            var page = await SignInElsewhere(key);
            Assert.Equal(0, await page.Locator("nav.admin").CountAsync());
            foreach (var path in new[] { "admin/keys", "admin/projections" })
            {
                var refused = await page.GotoAsync($"/console/workspaces/{a.Slug}/{path}");
                Assert.Equal(403, refused!.Status);
                Assert.Contains("lacks the role this call needs (admin, registry-wide)", await page.Locator("p.problem").InnerTextAsync());
                var html = await page.ContentAsync();
                // Every key's name but the caller's own, which the header shows as its actor.
                var self = (await page.Locator("span.actor").InnerTextAsync()).Trim()["key:".Length..];
                Assert.All(keysOfA.Where(k => k != self), k => Assert.DoesNotContain(k, html));
                await AssertAccessible(page);
            }
            // The create form posted directly, with a valid token of the session: refused as the API refuses it.
            var forged = await PostCreate(page, a.Slug, Unique("forged"), "admin");
            Assert.Equal(403, forged.Status);
            var rebuild = page.APIRequest.CreateFormData();
            rebuild.Set("__RequestVerificationToken", await page.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value") ?? "");
            Assert.Equal(403, (await page.APIRequest.PostAsync($"/console/workspaces/{a.Slug}/admin/projections", new() { Form = rebuild, MaxRedirects = 0 })).Status);
            await page.Context.DisposeAsync();
        }

        // An admin of A who reads B: B's admin pages refuse it, and a key posted into B is refused (403), made nowhere.
        var adminOfA = await SignInElsewhere(made.Body!["key"]!.GetValue<string>());
        await adminOfA.GotoAsync($"/console/workspaces/{a.Slug}/registry");
        Assert.Equal(1, await adminOfA.Locator("nav.admin").CountAsync());
        await adminOfA.GotoAsync($"/console/workspaces/{b.Slug}/registry");
        Assert.Equal(0, await adminOfA.Locator("nav.admin").CountAsync());
        Assert.Equal(403, (await adminOfA.GotoAsync($"/console/workspaces/{b.Slug}/admin/keys"))!.Status);
        var refusal = await adminOfA.ContentAsync();
        // Every key's name but the caller's own (the header's actor).
        Assert.All(keysOfB.Where(k => k != platformName), k => Assert.DoesNotContain(k, refusal));
        Assert.Equal(403, (await PostCreate(adminOfA, b.Slug, Unique("into-b"), "reader")).Status);

        // In A, the API's own validation: auditor is registry-wide only; and without the form's token, nothing at all.
        await adminOfA.GotoAsync($"/console/workspaces/{a.Slug}/admin/keys");
        var scopedAuditor = await PostCreate(adminOfA, a.Slug, Unique("audit-one"), "auditor", model: "churn");
        Assert.Equal(400, scopedAuditor.Status);
        Assert.Contains("auditor is granted registry-wide only", await scopedAuditor.TextAsync());
        Assert.Equal(400, (await PostCreate(adminOfA, a.Slug, Unique("tokenless"), "reader", withToken: false)).Status);
        Assert.Equal(keysOfB, await KeyNames(b.Slug, b.Admin));
        Assert.Equal(keysOfA, await KeyNames(a.Slug, a.Admin));

        // A key of A alone (not a member of B): B's admin pages answer as a workspace that does not exist.
        var member = await SignInElsewhere(a.Key);
        var other = await member.GotoAsync($"/console/workspaces/{b.Slug}/admin/keys");
        var otherBody = await other!.TextAsync();
        var missing = await member.GotoAsync($"/console/workspaces/{Unique("ws")}/admin/keys");
        Assert.Equal(404, other.Status);
        Assert.Equal(404, missing!.Status);
        Assert.Equal(WithoutTraceId(await missing.TextAsync()), WithoutTraceId(otherBody));
        await adminOfA.Context.DisposeAsync();
        await member.Context.DisposeAsync();
    }
}
