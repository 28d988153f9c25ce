using System.Text.Json;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Cli;

namespace EventSourcedRegistry.Api.Tests.Cli;

/// <summary>
/// Issue 19, item 6: every list's <c>--output json</c> is the API's envelope (<c>{items, nextCursor}</c> and the page's
/// other fields; on main models, versions, history and changes were bare arrays), <c>--limit</c>/<c>--cursor</c> page
/// as the API does, and <c>models list --tag</c> filters as the API's <c>tag=key:value</c> does (on main there was no such option).
/// </summary>
public sealed class when_listing_with_esr(AppFixture app) : ApiTest(app)
{
    private Task<EsrRunner.Run> Esr(params string[] args) => EsrRunner.Esr(Host.Client(), args);

    private async Task<EsrRunner.Run> Json(params string[] args)
    {
        var run = await Esr([.. args, "--output", "json"]);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: {run}");
        Assert.True(run.Json.ValueKind == JsonValueKind.Object, $"{string.Join(' ', args)} answered {run.Out}");
        return run;
    }

    private static List<string> Items(EsrRunner.Run run) => run.Json.GetProperty("items").EnumerateArray().Select(i => i.GetRawText()).ToList();

    private static string? NextCursor(EsrRunner.Run run) =>
        run.Json.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;

    [Fact]
    public async Task every_list_answers_the_apis_envelope_and_its_pages_add_up_to_the_whole_list()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        await Host.RegisterVersion("churn", RegistryCalls.Sha256A);
        await Host.RegisterVersion("churn", RegistryCalls.Sha256B);
        Assert.Equal(200, (await Host.Promote("churn", 1, "Staging")).Status);
        Assert.Equal(200, (await Host.Promote("churn", 2, "Staging")).Status);
        await App.WaitForHighWaterMark();

        var lists = new (string[] Args, int Count)[]
        {
            (["models", "list"], 2),
            (["versions", "list", "churn"], 2),
            (["history", "churn"], 5),
            (["registry"], 2),
            (["changes", "--from", "0"], 2),
            (["audit"], -1),
            (["requests", "list", "churn"], 0),
        };
        foreach (var (args, expected) in lists)
        {
            var whole = await Json(args);
            var items = Items(whole);
            // The audit log holds these six events and whatever else the registry appended (key events): at least six.
            var count = expected >= 0 ? expected : items.Count >= 6 ? items.Count : throw new Xunit.Sdk.XunitException($"audit: {items.Count} items");
            Assert.True(items.Count == count, $"{string.Join(' ', args)}: {items.Count} items, not {count}");
            Assert.True(NextCursor(whole) is null, $"{string.Join(' ', args)}: every item was read, yet nextCursor is {NextCursor(whole)}");
            if (count < 2) continue;

            // One item a page, each page's nextCursor passed back: the same items, in the same order, and then no cursor.
            var paged = new List<string>();
            string? cursor = null;
            for (var page = 0; page <= count; page++)
            {
                var run = await Json([.. args, "--limit", "1", .. cursor is null ? Array.Empty<string>() : ["--cursor", cursor]]);
                paged.AddRange(Items(run));
                cursor = NextCursor(run);
                if (cursor is null) break;
            }
            Assert.True(cursor is null, $"{string.Join(' ', args)}: still a nextCursor after {count} pages");
            Assert.Equal(items, paged);
        }

        Assert.NotEmpty((await Json("keys", "list")).Json.GetProperty("items").EnumerateArray());
        var versions = await Json("versions", "list", "churn");
        Assert.Equal("churn", versions.Json.GetProperty("items")[0].GetProperty("model").GetString());
        Assert.Equal("churn", (await Json("history", "churn")).Json.GetProperty("model").GetString());
        Assert.True((await Json("changes", "--from", "0")).Json.GetProperty("toSequence").GetInt64() > 0);
        Assert.True((await Json("registry")).Json.GetProperty("asOfSequence").GetInt64() > 0);

        var table = await Esr("models", "list", "--limit", "1");
        Assert.Contains("churn", table.Console);
        Assert.DoesNotContain("fraud", table.Console);
        Assert.Contains("More: --cursor ", table.Console);
    }

    [Fact]
    public async Task models_list_filters_by_tag_as_the_api_does()
    {
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "growth", ["tier"] = "gold" });
        await Host.RegisterModel("fraud", new Dictionary<string, string> { ["team"] = "risk" });
        await Host.RegisterModel("ltv", new Dictionary<string, string> { ["team"] = "growth" });
        await Host.RegisterModel("untagged");

        async Task<List<string?>> Names(params string[] tags) =>
            (await Json(["models", "list", .. tags.SelectMany(t => new[] { "--tag", t })])).Json.GetProperty("items").EnumerateArray()
            .Select(m => m.GetProperty("name").GetString()).ToList();

        Assert.Equal(["churn", "ltv"], await Names("team:growth"));
        Assert.Equal(["churn", "ltv"], await Names("team=growth"));
        Assert.Equal(["churn"], await Names("team:growth", "tier:gold"));
        Assert.Empty(await Names("team:nobody"));

        var table = await Esr("models", "list", "--tag", "team:risk");
        Assert.Contains("fraud", table.Console);
        Assert.DoesNotContain("churn", table.Console);

        Assert.Equal(ExitCodes.Usage, (await Esr("models", "list", "--tag", "growth")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await Esr("models", "list", "--tag", "team:a", "--tag", "team:b")).ExitCode);
    }
}
