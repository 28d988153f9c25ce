using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Samples;

/// <summary>
/// Issue 19, items 1, 3 and 4: README's first walkthroughs, run as a newcomer runs them, against a registry on the
/// product's default settings (four-eyes approval on). "Try it" is README's own block (see <see cref="WalkthroughRegistry"/>);
/// the samples are run as README's samples block runs them: the pipeline sample's build output twice with a contributor's
/// key, an approver of another owner approving the first run's requests, then samples/auditor.sh with bash, esr and
/// only an auditor's key.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_following_the_readme_walkthroughs(WalkthroughRegistry registry) : IClassFixture<WalkthroughRegistry>
{
    private HttpClient Admin => registry.Api.Client;

    private static async Task<JsonNode> Read(HttpClient client, string path)
    {
        var response = await client.Send(HttpMethod.Get, path);
        Assert.True(response.Status == 200, $"GET {path}: {response.Status} {response.Body}");
        return response.Body!;
    }

    private async Task<HttpClient> ClientFor(string name, string owner, string role)
    {
        var created = await Admin.Send(HttpMethod.Post, "/api/v1/admin/keys", new { name, owner, grants = new[] { new { role } } });
        Assert.True(created.Status == 201, $"creating key {name}: {created.Status} {created.Body}");
        var client = new HttpClient { BaseAddress = Admin.BaseAddress, Timeout = Admin.Timeout };
        client.DefaultRequestHeaders.Authorization = new("ApiKey", created.Body!["key"]!.GetValue<string>());
        return client;
    }

    private static string KeyOf(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;

    // Issue 19 item 1: the old block stopped at a 202 and left version 1 in None, without saying so.
    [Fact]
    public async Task try_it_ends_with_version_1_in_production_as_champion_approved_by_another_owner()
    {
        if (registry.TryItFailure is { } failure) throw new Xunit.Sdk.XunitException($"README's Try it block did not run: {failure}");
        var run = registry.TryIt!;
        Assert.True(run.ExitCode == 0, $"{run}\n--- the block as run\n{registry.TryItScript}");

        var model = await Read(Admin, "/api/v1/models/churn");
        Assert.True(model["versionsByStage"]?["Production"]?.AsArray().Select(v => v!.GetValue<int>()).SequenceEqual([1]) == true,
            $"version 1 is in Production after README's Try it: {model.ToJsonString()}\n{run}");
        Assert.Equal(1, model["aliases"]?["champion"]?.GetValue<int>());
        Assert.Empty(model["pendingRequests"]!.AsArray());
        var champion = await Read(Admin, "/api/v1/models/churn/aliases/champion");
        Assert.Equal(1, champion["version"]!.GetValue<int>());
        Assert.Equal("Production", champion["stage"]!.GetValue<string>());

        // Both moves went through four eyes: asked by one owner, approved by another.
        var requests = (await Read(Admin, "/api/v1/models/churn/requests")).Items();
        Assert.Equal(["alias champion", "stage Production"], requests.Select(r => $"{r["kind"]} {r["target"]}").Order());
        Assert.All(requests, r =>
        {
            Assert.Equal("approved", r["state"]!.GetValue<string>());
            Assert.Equal("dev@example.com", r["requesterOwner"]!.GetValue<string>());
            Assert.Equal("reviewer@example.com", r["approvals"]![0]!["approverOwner"]!.GetValue<string>());
        });
    }

    // Issue 19 items 3 and 4: the second run superseded v1's requests with a worse model; the auditor walkthrough answered
    // 404 for its default instant and 403 for its last step.
    [Fact]
    public async Task the_pipeline_keeps_a_worse_model_back_and_the_auditor_walks_the_record_with_only_an_auditor_key()
    {
        using var contributor = await ClientFor("samples-dev", "samples-dev@example.com", "contributor");
        using var approver = await ClientFor("samples-reviewer", "samples-reviewer@example.com", "approver");
        using var auditor = await ClientFor("samples-auditor", "samples-audit@example.com", "auditor");

        // 1. A first model: nothing to beat, so it is requested for Production and champion, and waits for approval.
        var first = await Pipeline(contributor, "--noise", "0.5");
        Assert.Contains("Requested v1 for Production as champion: first champion", first.Out);
        var requestIds = Regex.Matches(first.Out, @"Waiting for approval: (?:stage Production|alias champion) for v1, request ([0-9a-f-]{36})")
            .Select(m => m.Groups[1].Value).ToList();
        Assert.True(requestIds.Count == 2, $"the first run prints its two requests:\n{first}");

        // 2. A worse model while v1 waits: kept back, and v1's requests stay pending (not superseded).
        var second = await Pipeline(contributor, "--noise", "3");
        Assert.Matches(@"Kept back v2 \(rmse [0-9.]+\): v1 \(waiting for approval\) has rmse [0-9.]+\.", second.Out);
        Assert.DoesNotContain("Requested", second.Out);
        var pending = (await Read(Admin, "/api/v1/models/demand/requests?state=pending")).Items();
        Assert.Equal(requestIds.Order(), pending.Select(r => r["id"]!.GetValue<string>()).Order());
        Assert.All(pending, r => Assert.Equal(1, r["version"]!.GetValue<int>()));

        // 3. The reviewer approves what the first run printed: v1 is in Production as champion, v2 stays in None.
        foreach (var id in requestIds)
        {
            var approved = await approver.Send(HttpMethod.Post, $"/api/v1/models/demand/requests/{id}/approve", new { reason = "eval report checked" });
            Assert.True(approved.Status == 200, $"approving {id}: {approved.Status} {approved.Body}");
        }
        var model = await Read(Admin, "/api/v1/models/demand");
        Assert.Equal([1], model["versionsByStage"]!["Production"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal([2], model["versionsByStage"]!["None"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal(1, model["aliases"]!["champion"]!.GetValue<int>());

        // 4. Past README's block: a worse model meets the champion itself, and is kept back too.
        var third = await Pipeline(contributor, "--noise", "3");
        Assert.Matches(@"Kept back v3 \(rmse [0-9.]+\): champion v1 has rmse [0-9.]+\.", third.Out);
        Assert.Empty((await Read(Admin, "/api/v1/models/demand/requests?state=pending")).Items());

        // 5. The auditor's walkthrough, on a record at rest (its verify step checks the chain through every event).
        await ChainCaughtUp(auditor);
        var firstEvent = DateTimeOffset.Parse((await Read(Admin, "/api/v1/models/demand/history")).Items()[0]["timestamp"]!.GetValue<string>(),
            System.Globalization.CultureInfo.InvariantCulture);
        var audit = await Auditor(auditor);
        Assert.True(audit.ExitCode == 0, audit.ToString());
        Assert.DoesNotMatch(@"(?m)^esr: ", audit.Error);
        foreach (var step in new[]
                 {
                     "== Every model's stages, aliases and deployments now", "== demand now, and its versions",
                     "== Who moved what, and why (every event of demand)", "== demand as it stood at ",
                     "== Which version the champion alias named then, as JSON for a script", "== Stage, alias and deployment changes since ",
                     "== The audit log of demand, and whether the hash chain is intact", "== An export to hand over",
                 })
            Assert.True(audit.Out.Contains(step, StringComparison.Ordinal), $"the walkthrough shows '{step}':\n{audit}");
        var at = Regex.Match(audit.Out, @"== demand as it stood at (\S+)").Groups[1].Value;
        Assert.Equal(firstEvent, DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains($"(no champion at {at})", audit.Out);
        Assert.Contains("Verified", audit.Out);
        Assert.Matches(@"Wrote \d+ bytes to audit-demand\.csv\.", audit.Error);
        var export = await File.ReadAllTextAsync(Path.Combine(registry.Directory, "auditor", "audit-demand.csv"));
        foreach (var type in new[] { "ModelVersionRegistered", "TransitionRequested", "TransitionApproved", "ModelVersionStageTransitioned", "ModelAliasAssigned" })
            Assert.Contains(type, export);
    }

    /// <summary>The sample's build output, as <c>dotnet run --project samples/pipeline -- …</c> runs it from the clone.</summary>
    private async Task<ProcessRun> Pipeline(HttpClient contributor, params string[] arguments)
    {
        var run = await ProcessRun.Start("dotnet",
            [WalkthroughRegistry.BuildOutput(Path.Combine("samples", "pipeline"), "Pipeline.dll"), "--server", registry.Server, .. arguments],
            WalkthroughRegistry.RepositoryRoot, new Dictionary<string, string?> { ["ESR_API_KEY"] = KeyOf(contributor), ["ESR_SERVER"] = null },
            WalkthroughRegistry.StepTimeout);
        Assert.True(run.ExitCode == 0, run.ToString());
        return run;
    }

    /// <summary>samples/auditor.sh with bash, an <c>esr</c> on PATH (the CLI's build output) and only an auditor's key.</summary>
    private async Task<ProcessRun> Auditor(HttpClient auditor)
    {
        var directory = Directory.CreateDirectory(Path.Combine(registry.Directory, "auditor")).FullName;
        var bin = Directory.CreateDirectory(Path.Combine(directory, "bin")).FullName;
        var esr = Path.Combine(bin, "esr");
        await File.WriteAllTextAsync(esr,
            $"#!/usr/bin/env bash\nexec dotnet '{WalkthroughRegistry.BuildOutput(Path.Combine("src", "EventSourcedRegistry.Cli"), "esr.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(esr, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return await ProcessRun.Start("bash", [Path.Combine(WalkthroughRegistry.RepositoryRoot, "samples", "auditor.sh")], directory,
            new Dictionary<string, string?>
            {
                ["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
                ["ESR_SERVER"] = registry.Server,
                ["ESR_API_KEY"] = KeyOf(auditor),
            }, WalkthroughRegistry.StepTimeout);
    }

    private async Task ChainCaughtUp(HttpClient auditor)
    {
        var head = await registry.StoreHead();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var page = await Read(auditor, "/api/v1/audit?limit=1");
            if (page["completeThrough"]!.GetValue<long>() >= head) return;
            if (deadline.Elapsed > AuditCalls.CatchUpTimeout) throw new TimeoutException($"The audit log stayed behind sequence {head}: {page.ToJsonString()}");
            await Task.Delay(200);
        }
    }
}
