using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.OpenApi;

/// <summary>
/// The interactive reference at /api/reference is served by the app itself, to anyone (like /openapi/v1.json): its page and
/// every script it loads come from this host, none from a CDN, so it works where the registry has no internet access.
/// </summary>
public sealed partial class when_opening_the_api_reference(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task the_page_is_html_and_every_script_it_loads_is_served_by_the_app()
    {
        using var anonymous = Host.AnonymousClient();
        // Scalar redirects the bare path to the page under it (a relative address on this host).
        var reference = new Uri("http://localhost" + OpenApiDescription.ReferencePath);
        using var redirect = await anonymous.GetAsync(reference.PathAndQuery);
        var target = redirect.Headers.Location is { } location ? new Uri(reference, location) : reference;
        Assert.True((int)redirect.StatusCode is 200 or 302 && target.Host == "localhost"
                    && target.AbsolutePath.StartsWith(OpenApiDescription.ReferencePath, StringComparison.Ordinal), $"{(int)redirect.StatusCode} to {target}");
        var pagePath = target.PathAndQuery;
        using var page = await anonymous.GetAsync(pagePath);
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var scripts = ScriptSources().Matches(html).Select(m => m.Groups["src"].Value).ToList();
        Assert.True(scripts.Count > 0, $"the page loads no script:\n{html}");
        Assert.True(html.Contains("openapi/v1.json", StringComparison.Ordinal) || html.Contains("openapi/{documentName}.json", StringComparison.Ordinal), html);
        foreach (var src in scripts)
        {
            var url = new Uri(new Uri("http://localhost" + pagePath), src);
            Assert.True(url.Host == "localhost", $"the page loads {src} from another host");
            using var script = await anonymous.GetAsync(url.PathAndQuery);
            Assert.True((int)script.StatusCode == 200, $"{url.PathAndQuery}: {(int)script.StatusCode}");
            Assert.Contains("javascript", script.Content.Headers.ContentType?.MediaType ?? "");
            Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 1000, $"{url.PathAndQuery} is nearly empty");
        }
        // Nothing else on the page points at another host either (fonts, styles, telemetry).
        var external = ExternalUrls().Matches(html).Select(m => m.Value).ToList();
        Assert.True(external.Count == 0, $"the page refers to other hosts: {string.Join(", ", external)}");
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"(?<src>[^\"]+)\"", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptSources();

    [GeneratedRegex("(?:src|href)=\"(?:https?:)?//[^\"]+\"", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrls();
}
