using System.Net;
using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;
using Npgsql;

namespace EventSourcedRegistry.ConsoleTests;

public sealed partial class when_listing_console_sessions(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task a_key_sees_its_own_open_sessions_and_signing_out_everywhere_ends_them_all_and_no_other_keys()
    {
        var (keyId, key) = await KeyOfDefault(new { role = "reader" });
        var (_, other) = await KeyOfDefault(new { role = "reader" });
        var page = await SignIn(key);
        var elsewhere = await FormSession(key);
        var stranger = await FormSession(other);

        // This key's two sessions, this one marked; no session id (the cookie's secret half) on the page; the other key's
        // session is not among them.
        await page.GotoAsync("/console/sessions");
        Assert.Equal(2, await page.Locator("table.sessions tbody tr").CountAsync());
        Assert.Equal(["this session"], (await page.Locator("table.sessions tbody td:last-child").AllInnerTextsAsync()).Where(t => t.Length > 0));
        var html = await page.ContentAsync();
        foreach (var id in await SessionIds(keyId)) Assert.DoesNotContain(id, html);
        await AssertAccessible(page);
        var (strangers, strangerPage) = await Get(stranger, "/console/sessions");
        Assert.Equal(HttpStatusCode.OK, strangers);
        Assert.Single(Regex.Matches(strangerPage, "<tr>\\s*<td>"));

        // "Sign out everywhere" is a form with the antiforgery token: a post without it is refused and ends nothing.
        using (var forged = Client(elsewhere))
        {
            var refused = await forged.PostAsync("/console/sessions", new FormUrlEncodedContent(new Dictionary<string, string>()));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await Get(elsewhere, "/console/workspaces/default/registry")).Status);

        await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Sign out everywhere" }).ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        Assert.Equal(HttpStatusCode.Redirect, (await Get(elsewhere, "/console/workspaces/default/registry")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get(stranger, "/console/workspaces/default/registry")).Status);
        await page.GotoAsync("/console/sessions");
        Assert.Contains("/console/signin", page.Url);
    }

    /// <summary>
    /// Regression: only rows ended by sign-out were swept; a session left to go idle kept its row for ever, and the
    /// server took it as open until the cookie's own expiry.
    /// </summary>
    [Fact]
    public async Task a_session_idle_past_the_timeout_is_refused_on_the_server_and_swept_a_day_later_though_never_signed_out()
    {
        var (idleId, idleKey) = await KeyOfDefault(new { role = "reader" });
        var (forgottenId, forgottenKey) = await KeyOfDefault(new { role = "reader" });
        var idle = await FormSession(idleKey);
        await FormSession(forgottenKey);
        Assert.Equal(HttpStatusCode.OK, (await Get(idle, "/console/workspaces/default/registry")).Status);

        // Its last request more than the idle timeout (30 minutes) ago: over, though its cookie has not expired yet.
        await Age(idleId, "31 minutes");
        Assert.Equal(HttpStatusCode.Redirect, (await Get(idle, "/console/workspaces/default/registry")).Status);
        // Never signed out, idle for over a day: swept at the next sign-in (anyone's), while the recent one stays.
        await Age(forgottenId, "2 days");
        Assert.Single(await SessionIds(forgottenId));
        await FormSession(idleKey);
        Assert.Empty(await SessionIds(forgottenId));
        Assert.Equal(2, (await SessionIds(idleId)).Count);
    }

    private async Task Age(string keyId, string by)
    {
        await using var db = new NpgsqlConnection(Console.ConnectionString);
        await db.OpenAsync();
        await using var age = new NpgsqlCommand(
            $"update registry.console_sessions set started_at = started_at - interval '{by}', last_seen_at = last_seen_at - interval '{by}' where tenant_id = '~platform' and key_id = $1", db)
            { Parameters = { new() { Value = keyId } } };
        Assert.Equal(1, await age.ExecuteNonQueryAsync());
    }

    private async Task<List<string>> SessionIds(string keyId)
    {
        await using var db = new NpgsqlConnection(Console.ConnectionString);
        await db.OpenAsync();
        await using var select = new NpgsqlCommand("select session_id from registry.console_sessions where tenant_id = '~platform' and key_id = $1", db)
            { Parameters = { new() { Value = keyId } } };
        await using var reader = await select.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>A session of the key signed in by the form outside the browser; its cookie.</summary>
    private async Task<string> FormSession(string key)
    {
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = Console.BaseAddress };
        var form = await client.GetStringAsync("/console/signin");
        var signedIn = await client.PostAsync("/console/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = key, ["__RequestVerificationToken"] = Token().Match(form).Groups[1].Value,
        }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return cookies.GetCookies(new Uri(Console.BaseAddress, "/console/")).Single(c => c.Name == "esr-console").Value;
    }

    private HttpClient Client(string session) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = Console.BaseAddress, DefaultRequestHeaders = { { "Cookie", $"esr-console={session}" } },
        };

    private async Task<(HttpStatusCode Status, string Body)> Get(string session, string path)
    {
        using var client = Client(session);
        var answer = await client.GetAsync(path);
        if (answer.StatusCode == HttpStatusCode.Redirect) Assert.Contains("/console/signin", answer.Headers.Location!.ToString());
        return (answer.StatusCode, await answer.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
