using System.Net;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;
using Npgsql;

namespace EventSourcedRegistry.ConsoleTests;

/// <summary>
/// OpenID Connect sign-in against a provider written here (<see cref="TestIdentityProvider"/>), on a node of its own whose
/// JWT authority is that provider (HTTP metadata allowed for this test only).
/// </summary>
public sealed class when_signing_in_with_openid_connect(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task a_reader_token_signs_in_without_commands_refused_tokens_sign_no_one_in_and_sign_out_ends_the_session()
    {
        var model = Unique("oidc");
        await RegisterModel(model, "seen through a token");
        await using var provider = await TestIdentityProvider.Start();
        await using var node = await Console.StartApi(new Dictionary<string, string?>
        {
            ["Registry__Auth__Jwt__Authority"] = provider.Authority.ToString(),
            ["Registry__Auth__Jwt__Audience"] = TestIdentityProvider.RegistryAudience,
            ["Registry__Auth__Jwt__RequireHttpsMetadata"] = "false",
            ["Registry__Console__Oidc__ClientId"] = TestIdentityProvider.ClientId,
            ["Registry__Console__Oidc__ClientSecret"] = TestIdentityProvider.ClientSecret,
        });
        await using var browser = await Console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = node.Client.BaseAddress!.ToString() });
        // A node started for this test: its first sign-in compiles the OpenID Connect and JWT handlers and fetches the
        // provider's metadata and keys twice, on a loaded machine.
        browser.SetDefaultTimeout(90_000);
        browser.SetDefaultNavigationTimeout(90_000);
        var page = await browser.NewPageAsync();

        // The sign-in page offers the provider, by a link (a GET: the console's form-action policy stops a form's
        // redirect to another origin); the main node, without a client id, does not.
        var signInWith = $"Sign in with localhost:{provider.Authority.Port}";
        await page.GotoAsync("/console");
        Assert.Contains("/console/signin", page.Url);
        var link = page.GetByRole(AriaRole.Link, new() { Name = signInWith });
        Assert.Equal(1, await link.CountAsync());
        await AssertAccessible(page);
        var plain = await Browser.NewPageAsync();
        await plain.GotoAsync("/console/signin");
        Assert.Equal(0, await plain.GetByRole(AriaRole.Link, new() { Name = "Sign in with", Exact = false }).CountAsync());

        // Tokens the handler or the registry must refuse sign no one in, and say so.
        var subject = Unique("alice");
        foreach (var refused in new[]
                 {
                     new TestIdentityProvider.User(subject, ["reader"], Nonce: "not-the-nonce-sent"),
                     new TestIdentityProvider.User(subject, ["reader"], IdAudience: "another-client"),
                     new TestIdentityProvider.User(subject, ["reader"], AccessAudience: "another-api"),
                 })
        {
            provider.Next = refused;
            await page.GotoAsync("/console/signin");
            await page.GetByRole(AriaRole.Link, new() { Name = signInWith }).ClickAsync();
            await Reached(page, new Regex("/console/signin\\?refused=oidc"));
            Assert.Contains("was refused", await page.Locator("[role=alert]").InnerTextAsync());
            Assert.DoesNotContain(await browser.CookiesAsync(), c => c.Name == "esr-console");
        }
        Assert.Equal(0, await SessionRows("jwt:" + subject));

        // A token whose roles make it a reader: the console holds the actor and grants the API gives that token.
        provider.Next = new TestIdentityProvider.User(subject, ["reader"]);
        var pkce = provider.VerifiedPkce;
        await page.GotoAsync($"/console/signin?returnUrl={Uri.EscapeDataString($"/console/workspaces/default/registry?prefix={model}")}");
        await page.GetByRole(AriaRole.Link, new() { Name = signInWith }).ClickAsync();
        await Reached(page, new Regex("/console/workspaces/default/registry"));
        Assert.Equal(pkce + 1, provider.VerifiedPkce);
        Assert.Equal("jwt:" + subject, await page.Locator("header .actor").InnerTextAsync());
        Assert.Contains("seen through a token", await page.Locator("main").InnerTextAsync());
        Assert.Equal(["Sign out"], await page.Locator("form[method=post] button").AllInnerTextsAsync());
        await page.GotoAsync($"/console/workspaces/default/models/{model}");
        Assert.Equal(0, await page.Locator("main form[method=post]").CountAsync());
        Assert.Equal(1, await SessionRows("jwt:" + subject));
        var session = (await browser.CookiesAsync()).Single(c => c.Name == "esr-console").Value;

        // The session is a server row like a key's: listed on the sessions page, ended by sign-out for every copy.
        await page.GotoAsync("/console/sessions");
        Assert.Equal(1, await page.Locator("table.sessions tbody tr").CountAsync());
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        Assert.Equal(HttpStatusCode.Redirect, await Replay(node, session));

        // A session whose access token expired is refused at its next request.
        await page.GetByRole(AriaRole.Link, new() { Name = signInWith }).ClickAsync();
        await Reached(page, new Regex("/console/workspaces/default/registry"));
        var second = (await browser.CookiesAsync()).Single(c => c.Name == "esr-console").Value;
        Assert.Equal(HttpStatusCode.OK, await Replay(node, second));
        await using (var db = new NpgsqlConnection(Console.ConnectionString))
        {
            await db.OpenAsync();
            await using var expire = new NpgsqlCommand(
                "update registry.console_sessions set expires_at = now() - interval '1 second' where tenant_id = '~platform' and key_id = $1 and ended_at is null", db)
                { Parameters = { new() { Value = "jwt:" + subject } } };
            Assert.Equal(1, await expire.ExecuteNonQueryAsync());
        }
        Assert.Equal(HttpStatusCode.Redirect, await Replay(node, second));
    }

    /// <summary>The registry page asked with a copy of a session cookie: 200 while the session holds, else the redirect to sign-in.</summary>
    private static async Task<HttpStatusCode> Replay(ApiProcess node, string cookie)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = node.Client.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/workspaces/default/registry");
        request.Headers.Add("Cookie", $"esr-console={cookie}");
        var answer = await client.SendAsync(request);
        if (answer.StatusCode == HttpStatusCode.Redirect) Assert.Contains("/console/signin", answer.Headers.Location!.ToString());
        return answer.StatusCode;
    }

    private async Task<long> SessionRows(string holder)
    {
        await using var db = new NpgsqlConnection(Console.ConnectionString);
        await db.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from registry.console_sessions where tenant_id = '~platform' and key_id = $1", db)
            { Parameters = { new() { Value = holder } } };
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
