using System.Net;
using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_signing_in_to_the_console(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task a_reader_finds_a_model_by_prefix_and_opens_the_registry_as_of_a_pasted_link()
    {
        var model = Unique("fraud");
        var other = Unique("churn");
        await RegisterModel(model, "scores card payments");
        await RegisterModel(other);
        var first = await RegisterVersion(model);
        await Promote(model, first, "Production", "first release");
        await Alias(model, "champion", first, "the A/B winner");
        await Task.Delay(200);
        var instant = DateTimeOffset.UtcNow;
        await Task.Delay(200);
        var second = await RegisterVersion(model);
        await Promote(model, second, "Production", "second release");
        var (_, reader) = await KeyOfDefault(new { role = "reader" });

        var page = await SignIn(reader);
        await AssertAccessible(page);
        await page.Locator("#prefix").FillAsync(model[..8]);
        await page.Locator("form.filters button[type=submit]").ClickAsync();
        await Reached(page, new Regex("prefix="));
        var row = page.Locator("table.registry tbody tr", new() { HasText = model });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        Assert.Contains($"Production: {second}", await row.Locator("td.stages").InnerTextAsync());
        Assert.Contains($"champion → {first}", await row.Locator("td.aliases").InnerTextAsync());
        Assert.Equal(0, await page.Locator("table.registry", new() { HasText = other }).CountAsync());
        await AssertAccessible(page);

        // An auditor's finding links the registry as of an instant: pasted into a new tab of the same session.
        var pasted = await Browser.NewPageAsync();
        var answer = await pasted.GotoAsync($"/console/workspaces/default/registry?asOf={Uri.EscapeDataString(instant.ToString("O"))}");
        Assert.Equal(200, answer!.Status);
        var past = pasted.Locator("table.registry tbody tr", new() { HasText = model });
        await Assertions.Expect(past).ToHaveCountAsync(1);
        var stages = await past.Locator("td.stages").InnerTextAsync();
        Assert.Contains($"Production: {first}", stages);
        Assert.DoesNotContain($"{second}", stages);
        Assert.Contains("as of", await pasted.Locator("p.asof").InnerTextAsync());
        await AssertAccessible(pasted);

        // The model's page at the same instant: the versions and the timeline as they were.
        await past.Locator("th.model a").ClickAsync();
        await Reached(pasted, new Regex($"/models/{model}\\?asOf="));
        var versions = pasted.Locator("table.versions tbody tr");
        await Assertions.Expect(versions).ToHaveCountAsync(1);
        Assert.Equal("Production", await versions.Locator("td.stage").InnerTextAsync());
        Assert.Equal("champion", await versions.Locator("td.aliases").InnerTextAsync());
        Assert.Equal(new string('a', 64), await versions.Locator("td.digest").InnerTextAsync());
        Assert.Contains("external reference", await versions.Locator("td.verification").InnerTextAsync());
        var reasons = await pasted.Locator("table.timeline td.reason").AllInnerTextsAsync();
        Assert.Contains("first release", reasons);
        Assert.Contains("the A/B winner", reasons);
        Assert.DoesNotContain("second release", reasons);
        Assert.All(await pasted.Locator("table.timeline td.actor").AllInnerTextsAsync(), actor => Assert.Equal("key:bootstrap-admin", actor));
        Assert.All(await pasted.Locator("table.timeline td.correlation").AllInnerTextsAsync(), id => Assert.False(string.IsNullOrWhiteSpace(id)));
        await AssertAccessible(pasted);

        // And now: both versions, the second release in the timeline.
        var now = await pasted.GotoAsync($"/console/workspaces/default/models/{model}");
        Assert.Equal(200, now!.Status);
        await Assertions.Expect(pasted.Locator("table.versions tbody tr")).ToHaveCountAsync(2);
        Assert.Contains("second release", await pasted.Locator("table.timeline td.reason").AllInnerTextsAsync());
    }

    [Fact]
    public async Task an_instant_the_registry_refuses_is_shown_as_its_refusal_not_an_error_page()
    {
        var (_, reader) = await KeyOfDefault(new { role = "reader" });
        var page = await SignIn(reader);

        var future = await page.GotoAsync("/console/workspaces/default/registry?asOf=2999-01-01T00:00:00Z");
        Assert.Equal(200, future!.Status);
        Assert.Contains("In the future", await page.Locator(".problem").InnerTextAsync());
        var garbage = await page.GotoAsync("/console/workspaces/default/registry?asOf=yesterday");
        Assert.Equal(200, garbage!.Status);
        Assert.Contains("RFC 3339", await page.Locator(".problem").InnerTextAsync());
    }

    [Fact]
    public async Task every_console_page_carries_the_security_headers_and_a_session_cookie_that_scripts_cannot_read()
    {
        var (_, reader) = await KeyOfDefault(new { role = "reader" });
        var page = await Browser.NewPageAsync();
        var signIn = await page.GotoAsync("/console/signin");
        await page.Locator("#key").FillAsync(reader);
        var registry = await page.RunAndWaitForResponseAsync(() => page.Locator("form.signin button[type=submit]").ClickAsync(),
            response => response.Url.EndsWith("/registry", StringComparison.Ordinal));
        foreach (var response in new[] { signIn!, registry! })
        {
            var headers = await response.AllHeadersAsync();
            Assert.Equal("default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'", headers["content-security-policy"]);
            Assert.Equal("nosniff", headers["x-content-type-options"]);
            Assert.Equal("no-referrer", headers["referrer-policy"]);
            Assert.Equal("DENY", headers["x-frame-options"]);
        }
        var session = (await Browser.CookiesAsync()).Single(c => c.Name == "esr-console");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        Assert.Equal("/console", session.Path);
        Assert.DoesNotContain("esr-console", await page.EvaluateAsync<string>("document.cookie"));
    }

    [Fact]
    public async Task signing_in_returns_to_an_address_with_any_letters_and_never_outside_the_console()
    {
        var (_, key) = await KeyOfDefault(new { role = "reader" });
        // Was a 500: the return address went raw into Location, which Kestrel writes in ASCII only.
        var page = await Browser.NewPageAsync();
        await page.GotoAsync("/console/workspaces/default/registry?prefix=" + Uri.EscapeDataString("modèle-ü"));
        Assert.Contains("/console/signin", page.Url);
        await page.Locator("#key").FillAsync(key);
        var posted = await page.RunAndWaitForResponseAsync(() => page.Locator("form.signin button[type=submit]").ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.Contains("/console/signin"));
        Assert.Equal(302, posted.Status);
        await Reached(page, new Regex("/console/workspaces/default/registry"));
        Assert.Equal("modèle-ü", await page.Locator("#prefix").InputValueAsync());

        // A return address that climbs out of the console by a dot segment, plain or percent-encoded, lands on its start.
        foreach (var away in new[] { "/console/../api/v1/models", "/console/%2e%2e/api/v1/models" })
        {
            var other = await Console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Console.BaseAddress.ToString() });
            var visit = await other.NewPageAsync();
            await visit.GotoAsync("/console/signin?returnUrl=" + Uri.EscapeDataString(away));
            await visit.Locator("#key").FillAsync(key);
            await visit.Locator("form.signin button[type=submit]").ClickAsync();
            await Reached(visit, new Regex("/console/workspaces/default/registry"));
            Assert.DoesNotContain("/api/", visit.Url);
            await other.DisposeAsync();
        }
    }

    [Fact]
    public async Task a_wrong_key_is_refused_on_the_form_and_no_session_starts()
    {
        var page = await Browser.NewPageAsync();
        await page.GotoAsync("/console/signin");
        await page.Locator("#key").FillAsync("esr_0123456789abcdef_not-a-real-secret");
        await page.Locator("form.signin button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator(".problem")).ToHaveTextAsync("The API key is unknown or revoked.");
        Assert.DoesNotContain(await Browser.CookiesAsync(), c => c.Name == "esr-console");
        await AssertAccessible(page);
    }

    [Fact]
    public async Task a_form_post_without_the_antiforgery_token_is_refused()
    {
        var (_, reader) = await KeyOfDefault(new { role = "reader" });
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Console.BaseAddress };
        var response = await client.PostAsync("/console/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = reader }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("esr-console=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task signing_out_ends_the_session()
    {
        var (_, reader) = await KeyOfDefault(new { role = "reader" });
        var page = await SignIn(reader);
        // A copy of the session cookie taken before signing out (another tab, a stolen copy) works until then...
        var copy = (await Browser.CookiesAsync()).Single(c => c.Name == "esr-console");
        Assert.Equal(HttpStatusCode.OK, await RegistryWith(copy));
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        Assert.DoesNotContain(await Browser.CookiesAsync(), c => c.Name == "esr-console");
        await page.GotoAsync("/console/workspaces/default/registry");
        Assert.Contains("/console/signin", page.Url);
        // ...and is refused after: the server ended the session, not just the browser's cookie.
        Assert.Equal(HttpStatusCode.Redirect, await RegistryWith(copy));
    }

    private async Task<HttpStatusCode> RegistryWith(BrowserContextCookiesResult cookie)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Console.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/workspaces/default/registry");
        request.Headers.Add("Cookie", $"{cookie.Name}={cookie.Value}");
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
