using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Governance;

/// <summary>
/// Stage policy end to end: a host of its own configured as an operator would (Production needs sourceCommit and runId,
/// auc &gt;= 0.8 and an owner in the metadata), sharing the run's PostgreSQL with the ungated default host.
/// </summary>
public sealed class when_promoting_through_stage_gates(AppFixture app, GatedHost gated) : ApiTest(app), IClassFixture<GatedHost>
{
    private IAlbaHost Gated => gated.Host!;

    private static readonly object Complete = new
    {
        lineage = new { runId = "run-42", sourceCommit = "9fceb02d0ae598e95dc970b74767f19372d61af8" },
        metrics = new { auc = 0.91 },
        metadata = new { owner = "fraud-team" },
    };

    private async Task<JsonObject> RefusedPromotion(string model, int version)
    {
        var before = await RegistrySnapshot.Take(Host, Store);
        var response = await Gated.Promote(model, version, "Production");
        var problem = response.AssertProblem(409);
        await before.AssertUnchanged(Host, Store);
        return problem;
    }

    [Fact]
    public async Task a_version_missing_every_gate_is_refused_with_a_409_listing_each_and_nothing_is_appended()
    {
        await gated.StartAsync(App);
        await Gated.RegisterModel("churn");
        await Gated.RegisterVersion("churn", extra: new { metrics = new { auc = 0.7 } });

        var problem = await RefusedPromotion("churn", 1);

        var unmet = problem["unmetGates"]!.AsArray().Select(g => (g!["kind"]!.GetValue<string>(), g["requirement"]!.GetValue<string>())).ToList();
        Assert.Equal([("lineage", "sourceCommit"), ("lineage", "runId"), ("metric", "auc >= 0.8"), ("metadata", "owner")], unmet);
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains("lineage.sourceCommit", detail);
        Assert.Contains("auc = 0.7", detail);
        Assert.Contains("'owner'", detail);
    }

    [Fact]
    public async Task one_unmet_gate_is_enough_to_refuse_and_is_the_only_one_listed()
    {
        await gated.StartAsync(App);
        await Gated.RegisterModel("churn");
        await Gated.RegisterVersion("churn", extra: new
        {
            lineage = new { runId = "run-42", sourceCommit = "9fceb02" },
            metrics = new { auc = 0.91 },
            tags = new { owner = "fraud-team" },
        });

        var problem = await RefusedPromotion("churn", 1);

        var gate = Assert.Single(problem["unmetGates"]!.AsArray())!;
        Assert.Equal("metadata", gate["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_version_that_meets_every_gate_enters_the_stage()
    {
        await gated.StartAsync(App);
        await Gated.RegisterModel("churn");
        await Gated.RegisterVersion("churn", extra: Complete);

        var response = await Gated.Promote("churn", 1, "Production", reason: "passes the policy").Ok();

        Assert.Equal("Production", response.Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task metadata_edited_to_meet_the_policy_lets_the_version_in()
    {
        await gated.StartAsync(App);
        await Gated.RegisterModel("churn");
        await Gated.RegisterVersion("churn", extra: new
        {
            lineage = new { runId = "run-42", sourceCommit = "9fceb02" },
            metrics = new { auc = 0.91 },
        });
        await RefusedPromotion("churn", 1);

        await Gated.Send(HttpMethod.Patch, "/api/v1/models/churn/versions/1", new { metadata = new { owner = "fraud-team" } }).Ok();

        await Gated.Promote("churn", 1, "Production").Ok();
    }

    [Fact]
    public async Task stages_without_gates_admit_any_version()
    {
        await gated.StartAsync(App);
        await Gated.RegisterModel("churn");
        await Gated.RegisterVersion("churn");

        await Gated.Promote("churn", 1, "Staging").Ok();
        await Gated.Promote("churn", 1, "Archived").Ok();
    }

    [Fact]
    public async Task a_rollback_restores_a_past_production_version_without_checking_the_gates()
    {
        await gated.StartAsync(App);
        // Version 1 entered Production before the policy existed (through the ungated default host).
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production").Ok();
        var inProduction = await App.LastSequence();
        await Host.Promote("churn", 1, "Archived").Ok();
        await RefusedPromotion("churn", 1);
        await App.WaitForHighWaterMark();

        var rollback = await Gated.Post("/api/v1/models/churn/rollback", new { atSequence = inProduction, reason = "v1 back" });

        Assert.True(rollback.Status == 200, $"{rollback.Status} {rollback.Body}");
        var version = await Gated.Get("/api/v1/models/churn/versions/1").Ok();
        Assert.Equal("Production", version.Body!["stage"]!.GetValue<string>());
    }
}

/// <summary>One app host with a Production policy, started on first use by the test class.</summary>
public sealed class GatedHost : IAsyncLifetime
{
    private readonly SemaphoreSlim _starting = new(1, 1);

    public IAlbaHost? Host { get; private set; }

    public async Task StartAsync(AppFixture app)
    {
        await _starting.WaitAsync();
        try
        {
            if (Host is not null) return;
            // On the collection's database (the other collection's cluster may be the one the environment names).
            Host = await HostStarts.On(app.ConnectionString, () => AlbaHost.For<Program>(builder => builder
                .UseSetting("Logging:LogLevel:Default", "Warning")
                .UseSetting("Registry:BootstrapAdminKey", AppFixture.AdminKey)
                .UseSetting("Registry:Artifacts:Directory", Path.Combine(Path.GetTempPath(), $"esr-gated-artifacts-{Guid.NewGuid():N}"))
                .UseSetting("Registry:Lifecycle:Gates:Production:Lineage:0", "sourceCommit")
                .UseSetting("Registry:Lifecycle:Gates:Production:Lineage:1", "runId")
                .UseSetting("Registry:Lifecycle:Gates:Production:Metrics:0", "auc >= 0.8")
                .UseSetting("Registry:Lifecycle:Gates:Production:Metadata:0", "owner")
                // Gates alone here: four-eyes approval is off, as on the shared host, so a promotion acts at once.
                .UseSetting("Registry:Approvals:ProtectedStages", "")
                .UseSetting("Registry:Approvals:ProtectedAliases", "")));
        }
        finally
        {
            _starting.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
    }
}
