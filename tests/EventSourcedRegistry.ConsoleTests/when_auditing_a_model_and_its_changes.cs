using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_auditing_a_model_and_its_changes(ConsoleFixture console) : ConsoleTest(console)
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>A key of the workspace and the actor its events record.</summary>
    private async Task<(string Key, string Actor)> ActorKeyIn(string ws, string admin, params object[] grants)
    {
        var (key, name) = await KeyIn(ws, admin, grants);
        return (key, "key:" + name);
    }

    private async Task<int> RegisterVersion(string api, string model, string key, object metrics, object lineage)
    {
        var made = await Call(HttpMethod.Post, $"{api}/models/{model}/versions", new
        {
            artifact = new { uri = $"s3://models/{model}/{Guid.NewGuid():N}.onnx", sha256 = new string('b', 64), sizeBytes = 10 },
            metrics,
            lineage,
        }, key);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return made.Body!["version"]!.GetValue<int>();
    }

    private static List<string> Dialogs(IPage page)
    {
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        return dialogs;
    }

    /// <summary>An instant the registry has settled: the store's clock, a moment after what happened before it.</summary>
    private static async Task<string> Instant()
    {
        await Task.Delay(20);
        var at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        await Task.Delay(20);
        return at;
    }

    [Fact]
    public async Task an_auditor_sees_who_put_a_version_in_production_with_whose_approval_its_chart_and_the_diff()
    {
        var (ws, reader, admin) = await WorkspaceWithKey("reader");
        var api = $"/api/v1/workspaces/{ws}";
        var policy = await Call(HttpMethod.Put, $"{api}/settings/policy",
            new { approvals = new { protectedStages = new[] { "Production" }, requiredApprovals = 1 }, reason = "four eyes for Production" }, admin);
        Assert.True(policy.Status == 200, $"{policy.Status} {policy.Body}");
        var (requester, requesterActor) = await ActorKeyIn(ws, admin, new { role = "contributor" });
        var (approver, approverActor) = await ActorKeyIn(ws, admin, new { role = "approver" });
        var model = Unique("fraud");
        await RegisterModel(model, prefix: api, key: requester);
        var version = await RegisterVersion(api, model, requester, new { auc = 0.91, f1 = 0.8 },
            new { runId = "run-42", sourceRepository = "https://git.example.com/ml/fraud", sourceCommit = Commit,
                datasets = new[] { new { uri = "https://data.example.com/fraud/2026-03", digest = "sha256:abc" } } });
        await Promote(model, version, "Staging", "candidate", api, requester);
        var beforeProduction = await Instant();
        var asked = await Call(HttpMethod.Post, $"{api}/models/{model}/versions/{version}/stage",
            new { stage = "Production", reason = "beats the champion", archiveExisting = true }, requester);
        Assert.True(asked.Status == 202, $"{asked.Status} {asked.Body}");
        var approved = await Call(HttpMethod.Post, $"{api}/models/{model}/requests/{asked.Body!["id"]!.GetValue<string>()}/approve",
            new { reason = "reviewed the evaluation" }, approver);
        Assert.True(approved.Status == 200, $"{approved.Status} {approved.Body}");
        var deployed = await Call(HttpMethod.Post, $"{api}/models/{model}/deployments", new { version, environment = "prod", target = "eu", action = "deployed" }, admin);
        Assert.True(deployed.Status is 200 or 201, $"{deployed.Status} {deployed.Body}");
        var afterProduction = await Instant();
        var intervals = await Call(HttpMethod.Get, $"{api}/models/{model}/deployments", key: admin);
        var intervalCount = intervals.Body!["items"]!.AsArray().Count;
        // None, Staging, Production (open) for the version, and its deployment in prod (eu).
        Assert.Equal(4, intervalCount);

        var page = await SignIn(reader);
        var dialogs = Dialogs(page);
        Assert.Equal(200, (await page.GotoAsync($"/console/workspaces/{ws}/models/{model}"))!.Status);
        var details = page.Locator($"section.version:has(h3#version-{version})");
        Assert.Equal(["auc: 0.91", "f1: 0.8"], (await details.Locator("ul.metrics li").AllInnerTextsAsync()).Select(t => t.Trim()));
        Assert.Equal($"https://git.example.com/ml/fraud/commit/{Commit}", await details.Locator("dd.lineage a", new() { HasText = Commit }).GetAttributeAsync("href"));
        Assert.Equal("https://data.example.com/fraud/2026-03", await details.Locator("dd.lineage a", new() { HasText = "data.example.com" }).GetAttributeAsync("href"));
        // Who put it in Production (the approver's key, whose approval completed the request), who asked, who approved and why.
        var putBy = await details.Locator(".put-by").InnerTextAsync();
        Assert.Contains($"put there by {approverActor} (beats the champion)", putBy);
        Assert.StartsWith($"requested by {requesterActor} at ", (await details.Locator(".requested-by").InnerTextAsync()).Trim());
        var approval = (await details.Locator(".approved-by .approval").InnerTextAsync()).Trim();
        Assert.StartsWith($"{approverActor} at ", approval);
        Assert.EndsWith(" UTC (reviewed the evaluation)", approval);
        // No markup or template text leaks onto the page as text.
        Assert.DoesNotContain("@", await page.Locator("section.version").First.InnerTextAsync());
        // The chart: one bar per interval the API reports, a name for assistive technology, and its data as a table.
        var chart = page.Locator("figure.deployment-chart svg.chart");
        Assert.Equal(1, await chart.CountAsync());
        Assert.Equal(intervalCount, await chart.Locator("rect.bar").CountAsync());
        Assert.Equal(1, await chart.Locator("rect.bar.stage-production.open").CountAsync());
        Assert.StartsWith("Deployment history of " + model, await chart.GetAttributeAsync("aria-label"));
        Assert.Equal(intervalCount, await page.Locator("table.intervals tbody tr").CountAsync());
        Assert.Equal(0, await page.Locator("main form[method=post]").CountAsync());
        await AssertAccessible(page);

        // As of the instant before Production: the version in Staging, the chart without the later intervals.
        await page.GotoAsync($"/console/workspaces/{ws}/models/{model}?asOf={Uri.EscapeDataString(beforeProduction)}");
        Assert.Equal("Staging", (await details.Locator("dd.stage").InnerTextAsync()).Split(' ', '\n')[0].Trim());
        Assert.Contains(requesterActor, await details.Locator(".put-by").InnerTextAsync());
        Assert.Equal("without an approval request", (await details.Locator(".approved-by").InnerTextAsync()).Trim());
        Assert.Equal(2, await chart.Locator("rect.bar").CountAsync());

        // From the registry as of that instant, "compare with now" opens the diff: the Production promotion with who and why.
        await page.GotoAsync($"/console/workspaces/{ws}/registry?asOf={Uri.EscapeDataString(beforeProduction)}");
        await page.Locator("p.compare a").ClickAsync();
        await Reached(page, new Regex("/changes\\?from="));
        var promotion = page.Locator("table.changes tbody tr", new() { HasText = "stage Staging → Production" });
        Assert.Equal(1, await promotion.CountAsync());
        Assert.Equal(approverActor, (await promotion.Locator("td.actor").InnerTextAsync()).Trim());
        Assert.Equal("beats the champion", (await promotion.Locator("td.reason").InnerTextAsync()).Trim());
        Assert.Equal(model, (await page.Locator("section.model-changes h2").InnerTextAsync()).Trim());
        Assert.Equal(1, await page.Locator("table.changes tbody tr", new() { HasText = "deployed to prod (eu)" }).CountAsync());
        // Between two given instants: the same changes, and the earlier Staging promotion is before the first.
        await page.GotoAsync($"/console/workspaces/{ws}/changes?from={Uri.EscapeDataString(beforeProduction)}&to={Uri.EscapeDataString(afterProduction)}");
        Assert.Equal(1, await promotion.CountAsync());
        Assert.Equal(0, await page.Locator("table.changes tbody tr", new() { HasText = "→ Staging" }).CountAsync());
        Assert.Equal(0, await page.Locator("main form[method=post]").CountAsync());
        await AssertAccessible(page);
        // An instant the API refuses is its message on the page.
        await page.GotoAsync($"/console/workspaces/{ws}/changes?from=not-an-instant");
        Assert.Equal(1, await page.Locator("p.problem").CountAsync());
        Assert.Empty(dialogs);
    }

    [Fact]
    public async Task hostile_lineage_addresses_and_metric_names_are_text_never_links_or_script()
    {
        const string hostileMetric = "<img src=x onerror=alert('metric')>";
        var model = Unique("lineage");
        await RegisterModel(model);
        var version = await RegisterVersion("/api/v1", model, AppFixture.AdminKey, new Dictionary<string, double> { [hostileMetric] = 1.5 },
            new { sourceRepository = "javascript:alert(1)", sourceCommit = Commit, runId = "run-7",
                datasets = new[] { new { uri = "javascript:alert(3)", digest = (string?)null } } });
        // A run link arrives through MLflow's protocol.
        var mlflow = await Call(HttpMethod.Post, "/api/2.0/mlflow/model-versions/create",
            new { name = model, source = "s3://bucket/model", run_id = "run-8", run_link = "javascript:alert(2)" });
        Assert.True(mlflow.Status == 200, $"{mlflow.Status} {mlflow.Body}");
        var (_, reader) = await KeyOfDefault(new { role = "reader" });

        var page = await SignIn(reader);
        var dialogs = Dialogs(page);
        await page.GotoAsync($"/console/workspaces/default/models/{model}");
        Assert.Equal(0, await page.Locator("main a[href^='javascript' i]").CountAsync());
        Assert.Equal(0, await page.Locator("main dd.lineage a").CountAsync());
        var lineage = string.Join("\n", await page.Locator("dd.lineage").AllInnerTextsAsync());
        Assert.Contains("javascript:alert(1)", lineage);
        Assert.Contains("javascript:alert(2)", lineage);
        Assert.Contains("javascript:alert(3)", lineage);
        Assert.Equal($"{hostileMetric}: 1.5", (await page.Locator($"section.version:has(h3#version-{version}) ul.metrics li").InnerTextAsync()).Trim());
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        // Clicking the text of a hostile address does nothing.
        await page.Locator("dd.lineage .unlinked", new() { HasText = "javascript:alert(1)" }).ClickAsync();
        Assert.Empty(dialogs);
        await AssertAccessible(page);
    }

    [Fact]
    public async Task a_key_scoped_to_another_model_gets_the_missing_model_answer_and_learns_nothing_from_the_diff()
    {
        var mine = Unique("mine");
        var theirs = Unique("theirs");
        await RegisterModel(mine);
        await RegisterModel(theirs);
        var from = await Instant();
        var version = await RegisterVersion(theirs);
        await Promote(theirs, version, "Staging", "secret-reason-of-theirs");
        var (_, scoped) = await KeyOfDefault(new { role = "reader", model = mine });

        // The API refuses the registry's changes to this key; the page shows that refusal and nothing of the changes.
        var api = await Call(HttpMethod.Get, $"/api/v1/registry/changes?from={Uri.EscapeDataString(from)}", key: scoped);
        Assert.Equal(403, api.Status);
        var page = await SignIn(scoped);
        var diff = await page.GotoAsync($"/console/workspaces/default/changes?from={Uri.EscapeDataString(from)}");
        Assert.Equal(200, diff!.Status);
        Assert.Contains("Forbidden", await page.Locator("p.problem").InnerTextAsync());
        var html = await page.ContentAsync();
        Assert.DoesNotContain(theirs, html);
        Assert.DoesNotContain("secret-reason-of-theirs", html);
        Assert.Equal(0, await page.Locator("table.changes, section.model-changes").CountAsync());

        // Its own model's enriched page opens; the other model's answers exactly as a model that does not exist.
        Assert.Equal(200, (await page.GotoAsync($"/console/workspaces/default/models/{mine}"))!.Status);
        Assert.Equal(1, await page.Locator("svg.chart").CountAsync());
        var other = await page.GotoAsync($"/console/workspaces/default/models/{theirs}");
        var otherBody = await other!.TextAsync();
        var missing = await page.GotoAsync($"/console/workspaces/default/models/{Unique("nothing")}");
        Assert.Equal(404, other.Status);
        Assert.Equal(404, missing!.Status);
        Assert.Equal(WithoutTraceId(await missing.TextAsync()), WithoutTraceId(otherBody));
        Assert.DoesNotContain(theirs, otherBody);
    }
}
