using System.Net;
using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;

namespace EventSourcedRegistry.ConsoleTests;

public sealed partial class when_two_nodes_share_the_database(ConsoleFixture console) : ConsoleTest(console)
{
    [Fact]
    public async Task a_session_signed_in_on_one_node_is_accepted_by_a_node_started_later()
    {
        var model = Unique("shared");
        await RegisterModel(model, "on every node");
        var (_, reader) = await KeyOfDefault(new { role = "reader" });

        // Signed in on the first node, by the form (its antiforgery cookie and token included).
        var cookies = new CookieContainer();
        using var first = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = Console.BaseAddress };
        var form = await first.GetStringAsync("/console/signin");
        var token = Token().Match(form).Groups[1].Value;
        var signedIn = await first.PostAsync("/console/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = reader, ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var session = cookies.GetCookies(new Uri(Console.BaseAddress, "/console/")).Single(c => c.Name == "esr-console").Value;

        // A second node (a fresh process, as after a restart) reads the key ring from the database they share.
        await using var second = await Console.StartApi();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/console/workspaces/default/registry?prefix={model}");
        request.Headers.Add("Cookie", $"esr-console={session}");
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = second.Client.BaseAddress };
        var page = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("on every node", await page.Content.ReadAsStringAsync());

        // A cookie the key ring never made is no session there.
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/console/workspaces/default/registry");
        forged.Headers.Add("Cookie", $"esr-console={session[..^4]}AAAA");
        var refused = await client.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Contains("/console/signin", refused.Headers.Location!.ToString());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
