using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_auditing_in_the_console(ConsoleFixture console) : ConsoleTest(console)
{
    /// <summary>Reasons a spreadsheet would run as formulas: each of the four prefixes the CSV export must neutralise.</summary>
    private static readonly string[] Formulas = ["=HYPERLINK(\"http://evil.example\",\"open\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)"];

    /// <summary>
    /// A workspace whose Production needs one approval: a model whose version 1 was requested for Production by one key
    /// and approved by another, an auditor key, and T, an instant after the approval.
    /// </summary>
    private sealed record Approved(string Ws, string Admin, string Auditor, string Model, string Requester, string RequesterActor,
        string ApproverActor, DateTimeOffset T)
    {
        public string Api => $"/api/v1/workspaces/{Ws}";
    }

    private async Task<Approved> ApprovedProduction(string requestReason)
    {
        var (ws, auditor, admin) = await WorkspaceWithKey("auditor");
        var policy = await Call(HttpMethod.Put, $"/api/v1/workspaces/{ws}/settings/policy",
            new { approvals = new { protectedStages = new[] { "Production" }, requiredApprovals = 1 }, reason = "four eyes for Production" }, admin);
        Assert.True(policy.Status == 200, $"{policy.Status} {policy.Body}");
        var (requester, requesterName) = await KeyIn(ws, admin, new { role = "contributor" });
        var (approver, approverName) = await KeyIn(ws, admin, new { role = "approver" });
        var model = Unique("churn");
        var api = $"/api/v1/workspaces/{ws}";
        await RegisterModel(model, prefix: api, key: requester);
        var version = await RegisterVersion(model, api, requester);
        var asked = await Call(HttpMethod.Post, $"{api}/models/{model}/versions/{version}/stage",
            new { stage = "Production", reason = requestReason, archiveExisting = true }, requester);
        Assert.True(asked.Status == 202, $"{asked.Status} {asked.Body}");
        var request = asked.Body!["id"]!.GetValue<string>();
        var sha256 = new string('a', 64);
        var approved = await Call(HttpMethod.Post, $"{api}/models/{model}/requests/{request}/approve",
            new { reason = "reviewed the evaluation report", sha256 }, approver);
        Assert.True(approved.Status == 200, $"{approved.Status} {approved.Body}");
        return new Approved(ws, admin, auditor, model, requester, "key:" + requesterName, "key:" + approverName, DateTimeOffset.UtcNow);
    }


    [Fact]
    public async Task an_auditor_finds_what_was_in_production_at_T_and_who_approved_it_in_three_clicks_and_downloads_the_csv()
    {
        var a = await ApprovedProduction("ship the retrained model");
        // After T: a second version, in Staging, must appear neither on the page as of T nor in the trail up to T.
        var later = await RegisterVersion(a.Model, a.Api, a.Requester);
        await Promote(a.Model, later, "Staging", "after T", a.Api, a.Requester);

        var page = await SignIn(a.Auditor);
        Assert.EndsWith($"/console/workspaces/{a.Ws}/registry", page.Url);
        var clicks = 0;

        // Click 1: the registry as of T (the instant typed into the as-of form).
        await page.Locator("#asOf").FillAsync(a.T.ToString("O", CultureInfo.InvariantCulture));
        await page.Locator("form.filters button[type=submit]").ClickAsync();
        clicks++;
        await Reached(page, new Regex("registry\\?.*asOf="));
        var row = page.Locator("table.registry tbody tr", new() { HasText = a.Model });
        Assert.Equal("Production: 1", (await row.Locator("td.stages").InnerTextAsync()).Trim());

        // Click 2: the model as of T: version 1 in Production, and the timeline row naming who approved it.
        await row.Locator("th.model a").ClickAsync();
        clicks++;
        await Reached(page, new Regex($"/models/{a.Model}\\?asOf="));
        var versions = page.Locator("table.versions tbody tr");
        await Assertions.Expect(versions).ToHaveCountAsync(1);
        Assert.Equal("Production", await versions.Locator("td.stage").InnerTextAsync());
        var approval = page.Locator("table.timeline tbody tr", new() { Has = page.Locator("td.type", new() { HasTextRegex = new Regex("^TransitionApproved$") }) });
        await Assertions.Expect(approval).ToHaveCountAsync(1);
        Assert.Equal(a.ApproverActor, await approval.Locator("td.actor").InnerTextAsync());
        Assert.Equal("reviewed the evaluation report", await approval.Locator("td.reason").InnerTextAsync());
        Assert.Equal(0, await page.Locator("table.timeline td.reason", new() { HasText = "after T" }).CountAsync());

        // Click 3: the model's audit trail up to T, as CSV.
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("a.audit-csv").ClickAsync());
        clicks++;
        Assert.True(clicks <= 3, $"{clicks} clicks");
        Assert.Equal($"audit-{a.Ws}.csv", download.SuggestedFilename);
        var rows = Csv.Rows(await File.ReadAllTextAsync((await download.PathAsync())!));
        Assert.Equal(["sequence", "timestamp", "modelId", "modelName", "version", "eventType", "actor", "reason", "correlationId", "causationId", "summary"], rows[0]);
        var events = rows.Skip(1).ToList();
        var approvedRow = Assert.Single(events, r => r[5] == "TransitionApproved");
        Assert.Equal(a.ApproverActor, approvedRow[6]);
        Assert.Equal("reviewed the evaluation report", approvedRow[7]);
        Assert.Contains(events, r => r[5] == "TransitionRequested" && r[6] == a.RequesterActor && r[7] == "ship the retrained model");
        Assert.Contains(events, r => r[5] == "ModelVersionStageTransitioned" && r[4] == "1");
        // Nothing after T: no row of the later version or its move, and every timestamp at or before T.
        Assert.All(events, r => Assert.Equal(a.Model, r[3]));
        Assert.DoesNotContain(events, r => r[4] == later.ToString(CultureInfo.InvariantCulture) || r[7] == "after T");
        Assert.All(events, r => Assert.True(DateTimeOffset.Parse(r[1], CultureInfo.InvariantCulture) <= a.T, $"{r[1]} is after {a.T:O}"));
    }

    [Fact]
    public async Task the_audit_page_filters_by_actor_and_type_and_its_downloads_stream_the_same_events_with_formulas_neutralised()
    {
        var a = await ApprovedProduction(Formulas[0]);
        foreach (var formula in Formulas.Skip(1))
        {
            var version = await RegisterVersion(a.Model, a.Api, a.Requester);
            await Promote(a.Model, version, "Staging", formula, a.Api, a.Requester);
        }

        var page = await SignIn(a.Auditor);
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        await page.Locator("nav.audit a", new() { HasText = "Audit" }).ClickAsync();
        await Reached(page, $"/console/workspaces/{a.Ws}/audit");
        await AssertAccessible(page);

        // The requester's stage moves only: its three moves to Staging (and the archivings they caused), exactly the API's answer.
        await page.Locator("#actor").FillAsync(a.RequesterActor);
        await page.Locator("#type").SelectOptionAsync("ModelVersionStageTransitioned");
        await page.Locator("form.filters button[type=submit]").ClickAsync();
        await Reached(page, new Regex("audit\\?.*type=ModelVersionStageTransitioned"));
        var rows = page.Locator("table.audit tbody tr");
        var api = await Call(HttpMethod.Get, $"{a.Api}/audit?actor={Uri.EscapeDataString(a.RequesterActor)}&type=ModelVersionStageTransitioned", key: a.Auditor);
        var expected = api.Body!["items"]!.AsArray().Select(i => i!["sequence"]!.GetValue<long>().ToString(CultureInfo.InvariantCulture)).ToList();
        Assert.True(expected.Count >= 3, api.Body.ToJsonString());
        await Assertions.Expect(rows).ToHaveCountAsync(expected.Count);
        Assert.Equal(expected, await rows.Locator("th").AllInnerTextsAsync());
        Assert.All(await rows.Locator("td.actor").AllInnerTextsAsync(), actor => Assert.Equal(a.RequesterActor, actor));
        Assert.All(await rows.Locator("td.type").AllInnerTextsAsync(), type => Assert.Equal("ModelVersionStageTransitioned", type));
        var reasons = await rows.Locator("td.reason").AllInnerTextsAsync();
        foreach (var formula in Formulas.Skip(1)) Assert.Contains(formula, reasons);
        await page.Locator("#type").SelectOptionAsync("TransitionRequested");
        await page.Locator("form.filters button[type=submit]").ClickAsync();
        await Reached(page, new Regex("audit\\?.*type=TransitionRequested"));
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        Assert.Equal(Formulas[0], await rows.Locator("td.reason").InnerTextAsync());
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        Assert.Empty(dialogs);

        // The requester's events of every type, downloaded: CSV with each formula made text, NDJSON with each exactly as given.
        await page.Locator("#type").SelectOptionAsync("");
        await page.Locator("form.filters button[type=submit]").ClickAsync();
        await Reached(page, new Regex("audit\\?.*type=&|type=$"));
        var shown = (await page.Locator("table.audit tbody th").AllInnerTextsAsync()).ToList();
        var csv = await page.RunAndWaitForDownloadAsync(() => page.Locator("a.download-csv").ClickAsync());
        var csvRows = Csv.Rows(await File.ReadAllTextAsync((await csv.PathAsync())!)).Skip(1).ToList();
        Assert.Equal(shown, csvRows.Select(r => r[0]));
        Assert.All(csvRows, r => Assert.Equal(a.RequesterActor, r[6]));
        foreach (var formula in Formulas) Assert.Contains(csvRows, r => r[7] == "'" + formula);
        Assert.DoesNotContain(csvRows, r => r.Any(cell => cell.Length > 0 && "=+-@".Contains(cell[0])));

        var ndjson = await page.RunAndWaitForDownloadAsync(() => page.Locator("a.download-ndjson").ClickAsync());
        Assert.Equal($"audit-{a.Ws}.ndjson", ndjson.SuggestedFilename);
        var lines = (await File.ReadAllLinesAsync((await ndjson.PathAsync())!)).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(shown, lines.Select(l => l["sequence"]!.GetValue<long>().ToString(CultureInfo.InvariantCulture)));
        foreach (var formula in Formulas) Assert.Contains(lines, l => l["reason"]?.GetValue<string>() == formula);

        // Streamed by the API's export, not collected first: chunked, no length, an attachment, never cached.
        var href = await page.Locator("a.download-csv").GetAttributeAsync("href");
        var response = await page.APIRequest.GetAsync(href!);
        Assert.Equal(200, response.Status);
        Assert.Equal("chunked", response.Headers.GetValueOrDefault("transfer-encoding"));
        Assert.False(response.Headers.ContainsKey("content-length"));
        Assert.StartsWith("attachment", response.Headers["content-disposition"]);
        Assert.Equal("no-store", response.Headers["cache-control"]);
        Assert.StartsWith("text/csv", response.Headers["content-type"]);

        // Refused filters are the API's messages on the page, and a refused download is a page, never a file or a 500.
        var refused = await page.GotoAsync($"/console/workspaces/{a.Ws}/audit?to=yesterday&type=NoSuchEvent");
        Assert.Equal(200, refused!.Status);
        var problem = await page.Locator("p.problem").InnerTextAsync();
        Assert.Contains("is not an event type", problem);
        Assert.Equal(0, await page.Locator("table.audit").CountAsync());
        var badExport = await page.APIRequest.GetAsync($"/console/workspaces/{a.Ws}/audit/export?format=csv&type=NoSuchEvent");
        Assert.Equal(400, badExport.Status);
        Assert.StartsWith("text/html", badExport.Headers["content-type"]);
        Assert.Contains("is not an event type", await badExport.TextAsync());
        var badFormat = await page.APIRequest.GetAsync($"/console/workspaces/{a.Ws}/audit/export?format=xlsx");
        Assert.Equal(400, badFormat.Status);
        var unknownModel = await page.APIRequest.GetAsync($"/console/workspaces/{a.Ws}/audit/export?format=ndjson&model=no-such-model");
        Assert.Equal(404, unknownModel.Status);
        Assert.DoesNotContain("Exception", await unknownModel.TextAsync());
    }

    [Fact]
    public async Task the_chain_page_shows_the_verified_range_and_its_openssl_commands_verify_a_checkpoint()
    {
        var a = await ApprovedProduction("ship it");
        var checkpoint = await SignCheckpoint(a);

        var page = await SignIn(a.Auditor);
        await page.GotoAsync($"/console/workspaces/{a.Ws}/audit");
        await page.Locator("a", new() { HasText = "Chain status and signed checkpoints" }).ClickAsync();
        await Reached(page, $"/console/workspaces/{a.Ws}/audit/chain");

        // What the endpoint answers the same key, and the verdict worded from it.
        var verify = await Call(HttpMethod.Get, $"{a.Api}/audit/verify", key: a.Auditor);
        Assert.Equal("verified", verify.Body!["state"]!.GetValue<string>());
        var through = verify.Body["headSequence"]!.GetValue<long>();
        Assert.True(through >= checkpoint["sequence"]!.GetValue<long>());
        Assert.Equal($"Verified through sequence {through}", await page.Locator("p.verdict").InnerTextAsync());
        Assert.Contains($"links after sequence {checkpoint["sequence"]} recomputed", await page.Locator("p.coverage").InnerTextAsync());
        Assert.Equal("incremental", await page.Locator("dd.mode").InnerTextAsync());
        Assert.Equal("none", await page.Locator("dd.first-broken").InnerTextAsync());
        await AssertAccessible(page);

        await page.Locator("a", new() { HasText = "Check in full" }).ClickAsync();
        await Reached(page, new Regex("full=true"));
        Assert.Equal("full", await page.Locator("dd.mode").InnerTextAsync());
        Assert.Equal("0", await page.Locator("dd.from").InnerTextAsync());
        Assert.StartsWith("Verified through sequence ", await page.Locator("p.verdict").InnerTextAsync());

        // The checkpoint, the public key, and the commands: run exactly as printed, they verify it with openssl alone.
        var row = page.Locator("table.checkpoints tbody tr").First;
        Assert.Equal(checkpoint["sequence"]!.ToString(), await row.Locator("th").InnerTextAsync());
        Assert.Equal(checkpoint["head"]!.GetValue<string>(), await row.Locator("td.head").InnerTextAsync());
        var commands = await page.Locator("pre.openssl").InnerTextAsync();
        var directory = Directory.CreateTempSubdirectory("esr-console-openssl-");
        try
        {
            var (exit, output) = await Shell(directory.FullName, commands);
            Assert.True(exit == 0, output);
            Assert.Equal(["Verified OK", checkpoint["keyId"]!.GetValue<string>()], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            // The same commands over a changed text fail: the check could have said no.
            var forged = commands.Replace($"sequence={checkpoint["sequence"]} ", $"sequence={checkpoint["sequence"]!.GetValue<long>() + 1} ");
            Assert.NotEqual(commands, forged);
            (exit, output) = await Shell(directory.FullName, forged);
            Assert.NotEqual(0, exit);
            Assert.Contains("Verification failure", output);
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        // A checkpoint kept outside, compared with today's chain; a forged head is named broken, never verified.
        await row.Locator("a", new() { HasText = "compare with today's chain" }).ClickAsync();
        await Reached(page, new Regex("head="));
        Assert.StartsWith("Verified through sequence ", await page.Locator("p.verdict").InnerTextAsync());
        await page.GotoAsync($"/console/workspaces/{a.Ws}/audit/chain?sequence={checkpoint["sequence"]}&head={new string('0', 64)}");
        Assert.DoesNotContain("Verified", await page.Locator("p.verdict").InnerTextAsync());
        Assert.Equal("false", await page.Locator("dd.verified").InnerTextAsync());

        // Values verify refuses are its message on the page, with no verdict at all.
        var refused = await page.GotoAsync($"/console/workspaces/{a.Ws}/audit/chain?full=maybe&sequence=abc&head=%3Cscript%3E");
        Assert.Equal(200, refused!.Status);
        Assert.Contains("full is true", await page.Locator("p.problem").First.InnerTextAsync());
        Assert.Equal(0, await page.Locator("p.verdict, main script").CountAsync());
    }

    [Fact]
    public async Task a_reader_and_a_model_scoped_key_get_no_audit_link_and_the_audit_routes_refuse_them_without_data()
    {
        var a = await ApprovedProduction("ship it");
        await SignCheckpoint(a);
        var (reader, _) = await KeyIn(a.Ws, a.Admin, new { role = "reader" });
        var other = Unique("other");
        await RegisterModel(other, prefix: a.Api, key: a.Admin);
        var (scoped, _) = await KeyIn(a.Ws, a.Admin, new { role = "approver", model = other });
        // Each console route, and the API endpoint it reads through.
        var routes = new[]
        {
            ("audit", "audit"), ("audit/chain", "audit/verify"), ("audit/export?format=csv", "audit?format=csv"),
            ($"audit/export?format=ndjson&model={a.Model}", $"audit?format=ndjson&model={a.Model}"),
        };

        foreach (var key in new[] { reader, scoped })
        {
            var page = await SignIn(key);
            Assert.Equal(0, await page.Locator("nav.audit").CountAsync());
            // Its own model's page (the reader reads every model; the scoped key only the other): no audit trail link.
            await page.GotoAsync($"/console/workspaces/{a.Ws}/models/{(key == reader ? a.Model : other)}");
            await Assertions.Expect(page.Locator("table.timeline")).ToHaveCountAsync(1);
            Assert.Equal(0, await page.Locator("a.audit-csv").CountAsync());
            foreach (var (route, endpoint) in routes)
            {
                // The API's answer to this key for its audit endpoints (403), as a page: no event, no actor, no checkpoint.
                var api = await Call(HttpMethod.Get, $"{a.Api}/{endpoint}", key: key);
                var answer = await page.APIRequest.GetAsync($"/console/workspaces/{a.Ws}/{route}");
                Assert.Equal(api.Status, answer.Status);
                Assert.Equal(403, answer.Status);
                Assert.StartsWith("text/html", answer.Headers["content-type"]);
                Assert.False(answer.Headers.ContainsKey("content-disposition"));
                var body = await answer.TextAsync();
                Assert.Contains("lacks the role this call needs", body);
                Assert.DoesNotContain(a.ApproverActor, body);
                Assert.DoesNotContain("TransitionApproved", body);
                Assert.DoesNotContain("BEGIN PUBLIC KEY", body);
                Assert.DoesNotContain("esr-audit-checkpoint", body);
                Assert.DoesNotContain("<table", body);
                Assert.DoesNotContain(a.Model, body);
            }
            await AssertAccessible(page);
            await page.Locator("form.signout button[type=submit]").ClickAsync();
            await Reached(page, new Regex("/console/signin"));
        }

        // A key of another workspace: the audit pages of this one answer as a workspace that does not exist.
        var (_, stranger, _) = await WorkspaceWithKey("auditor");
        var strangerPage = await SignIn(stranger);
        var missing = await strangerPage.APIRequest.GetAsync("/console/workspaces/no-such-workspace/audit");
        foreach (var (route, _) in routes)
        {
            var answer = await strangerPage.APIRequest.GetAsync($"/console/workspaces/{a.Ws}/{route}");
            Assert.Equal(404, answer.Status);
            Assert.Equal(WithoutTraceId(await missing.TextAsync()), WithoutTraceId(await answer.TextAsync()));
        }
    }

    /// <summary>Signs a checkpoint of the workspace through the API (the auditor may), once the chain reaches every event.</summary>
    private async Task<JsonNode> SignCheckpoint(Approved a)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var signed = await Call(HttpMethod.Post, $"{a.Api}/audit/checkpoints", key: a.Auditor);
            if (signed.Status is 200 or 201) return signed.Body!;
            // 409 while the chain worker has not yet linked the newest events.
            Assert.True(signed.Status == 409 && DateTime.UtcNow < deadline, $"{signed.Status} {signed.Body}");
            await Task.Delay(200);
        }
    }

    private static async Task<(int ExitCode, string Output)> Shell(string directory, string script)
    {
        var start = new ProcessStartInfo("sh", ["-e"])
        {
            WorkingDirectory = directory, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output) + (await error));
    }
}
