using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

/// <summary>
/// The screenshots README shows, taken by this harness: the registry as of an instant, a model's page with its timeline
/// and deployment chart, and the approvals inbox. They are written to the folder <see cref="FolderVariable"/> names,
/// relative to the repository's root (docs/console shots: see docs/console.md for the command); without it, to a
/// temporary folder, so a CI run leaves the clone unchanged. Either way the journey checks what each page shows.
/// </summary>
public sealed class when_taking_the_console_screenshots(ConsoleFixture console) : ConsoleTest(console)
{
    public const string FolderVariable = "ESR_CONSOLE_SCREENSHOTS";

    [Fact]
    public async Task the_registry_as_of_an_instant_a_model_with_its_chart_and_the_inbox_are_shot()
    {
        var folder = Folder();
        // A workspace of its own, named for the pictures, whose Production needs one approval.
        var (ws, _, admin) = await WorkspaceWithKey("reader", "ml-platform");
        var api = $"/api/v1/workspaces/{ws}";
        var policy = await Call(HttpMethod.Put, $"{api}/settings/policy",
            new { approvals = new { protectedStages = new[] { "Production" }, requiredApprovals = 1 }, reason = "four eyes for Production" }, admin);
        Assert.True(policy.Status == 200, $"{policy.Status} {policy.Body}");
        var (pipeline, _) = await KeyIn(ws, admin, new { role = "contributor" });
        var (approver, _) = await KeyIn(ws, admin, new { role = "approver" });
        var (auditor, _) = await KeyIn(ws, admin, new { role = "auditor" }, new { role = "approver" });

        const string fraud = "fraud-detector";
        await RegisterModel(fraud, "Scores card transactions for fraud in real time.", new { team = "risk", owner = "ana" }, api, pipeline);
        await RegisterModel("churn-predictor", "Monthly churn propensity per subscriber.", new { team = "growth" }, api, pipeline);
        await RegisterModel("search-ranker", "Learning-to-rank model for catalogue search.", new { team = "search" }, api, pipeline);
        for (var v = 1; v <= 3; v++) await TrainedVersion(api, fraud, v, pipeline);
        await TrainedVersion(api, "churn-predictor", 1, pipeline);
        await Move(api, fraud, 1, "Staging", "shadow traffic for a week", pipeline);
        await ApprovedProduction(api, fraud, 1, "beats the rules engine on last quarter's fraud", pipeline, approver);
        await Call(HttpMethod.Post, $"{api}/models/{fraud}/deployments", new { version = 1, environment = "eu-west", action = "deployed", reason = "rollout" }, pipeline);
        await Call(HttpMethod.Post, $"{api}/models/{fraud}/deployments", new { version = 1, environment = "us-east", action = "deployed", reason = "rollout" }, pipeline);
        await Move(api, fraud, 2, "Staging", "retrained on March data", pipeline);
        var instant = await Now(api, admin);
        // After the instant: v2 waits for its approval to enter Production.
        await Move(api, fraud, 3, "Staging", "new features", pipeline, expected: 200);
        await Move(api, fraud, 2, "Production", "recall +4 points at equal precision", pipeline, expected: 202);

        var page = await SignIn(auditor);
        await page.SetViewportSizeAsync(1280, 800);
        await page.GotoAsync($"/console/workspaces/{ws}/registry?asOf={Uri.EscapeDataString(instant)}");
        await Assertions.Expect(page.Locator("table.registry tbody tr")).ToHaveCountAsync(3);
        Assert.Contains("Production", await page.Locator("table.registry tbody tr", new() { HasText = fraud }).InnerTextAsync());
        await Shoot(page, folder, "console-registry-as-of.png");

        await page.GotoAsync($"/console/workspaces/{ws}/models/{fraud}");
        Assert.Equal(3, await page.Locator("table.versions tbody tr").CountAsync());
        Assert.True(await page.Locator("main").GetByText("TransitionApproved").CountAsync() >= 1);
        await Shoot(page, folder, "console-model-timeline.png");

        await page.GotoAsync($"/console/workspaces/{ws}/approvals");
        await Assertions.Expect(page.Locator("li.request")).ToHaveCountAsync(1);
        await Shoot(page, folder, "console-approvals-inbox.png");
    }

    /// <summary>A version as a training pipeline registers it: digest, metrics and lineage.</summary>
    private async Task TrainedVersion(string api, string model, int n, string key)
    {
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{model} v{n}")));
        var made = await Call(HttpMethod.Post, $"{api}/models/{model}/versions", new
        {
            artifact = new { uri = $"s3://models/{model}/v{n}/model.onnx", sha256 = digest, sizeBytes = 48_000_000 + n * 1_024 },
            metrics = new Dictionary<string, double> { ["auc"] = 0.91 + n / 100.0, ["recall_at_1pct_fpr"] = 0.62 + n / 50.0 },
            lineage = new { runId = $"run-2026-03-0{n}", sourceRepository = $"https://git.example.com/ml/{model}", sourceCommit = digest[..40] },
        }, key);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
    }

    private async Task Move(string api, string model, int version, string stage, string reason, string key, int expected = 200)
    {
        // Staging holds several candidates; Production one.
        var moved = await Call(HttpMethod.Post, $"{api}/models/{model}/versions/{version}/stage", new { stage, reason, archiveExisting = stage == "Production" }, key);
        Assert.True(moved.Status == expected, $"{model} v{version} to {stage}: {moved.Status} {moved.Body}");
    }

    private async Task ApprovedProduction(string api, string model, int version, string reason, string requester, string approver)
    {
        var asked = await Call(HttpMethod.Post, $"{api}/models/{model}/versions/{version}/stage", new { stage = "Production", reason, archiveExisting = true }, requester);
        Assert.True(asked.Status == 202, $"{asked.Status} {asked.Body}");
        var id = asked.Body!["id"]!.GetValue<string>();
        var approved = await Call(HttpMethod.Post, $"{api}/models/{model}/requests/{id}/approve", new { reason = "reviewed the evaluation report" }, approver);
        Assert.True(approved.Status == 200, $"{approved.Status} {approved.Body}");
    }

    /// <summary>An instant after every write so far, once the registry has settled past it and reads at it.</summary>
    private async Task<string> Now(string api, string key)
    {
        var instant = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        // The as-of rule refuses an instant that has not settled yet (a commit could still land before it): wait it out.
        for (var i = 0; i < 200; i++)
        {
            var read = await Call(HttpMethod.Get, $"{api}/registry?asOf={Uri.EscapeDataString(instant)}&limit=1", key: key);
            if (read.Status == 200) return instant;
            await Task.Delay(100);
        }
        throw new TimeoutException($"The registry never settled past {instant}.");
    }

    private static async Task Shoot(IPage page, string folder, string file)
    {
        var path = Path.Combine(folder, file);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.True(bytes.Length > 10_000, $"{file}: {bytes.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
    }

    /// <summary>The folder the variable names (relative to the repository's root), else a fresh temporary one.</summary>
    private static string Folder()
    {
        var named = Environment.GetEnvironmentVariable(FolderVariable);
        if (string.IsNullOrWhiteSpace(named))
            return Directory.CreateTempSubdirectory("esr-console-shots-").FullName;
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "EventSourcedRegistry.sln")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("The repository's root was not found above the test's folder.");
        return Directory.CreateDirectory(Path.Combine(root, named)).FullName;
    }
}
