using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Approvals;

/// <summary>
/// Issue 13, item 5: on main a contributor's rollback put an archived version straight back into Production, or moved
/// champion, with no approval (and an admin's registry-wide rollback did the same). Such a rollback is now refused with
/// 409 "Approval required" pointing at the approval flow, appends nothing, and its dry run marks the changes.
/// </summary>
public class when_a_rollback_would_bypass_approval(AppFixture app) : ApiTest(app)
{
    private const string Name = "credit-risk";
    private IAlbaHost _host = null!;
    private HttpClient _contributor = null!;
    private HttpClient _approver = null!;
    private IDocumentStore Governed => _host.Services.GetRequiredService<IDocumentStore>();

    private async Task Given()
    {
        _host = await App.GovernedHost();
        await _host.RegisterModel(Name);
        await _host.RegisterVersion(Name, RegistryCalls.Sha256A);
        await _host.RegisterVersion(Name, RegistryCalls.Sha256B);
        _contributor = _host.ClientWithKey((await _host.CreateKey($"contributor:{Name}")).Key);
        _approver = _host.ClientWithKey((await _host.CreateKey("approver")).Key);
    }

    /// <summary>Requested by the contributor and approved by the approver: the legitimate way in.</summary>
    private async Task Approved(HttpMethod method, string path, object body)
    {
        var requested = await _contributor.Send(method, path, body);
        Assert.True(requested.Status == 202, $"{requested.Status} {requested.Body}");
        await _approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{requested.Body!["id"]}/approve", new { }).Ok();
    }

    private async Task<long> Now()
    {
        await Governed.WaitForAuditTrail(); // the high-water mark has passed every event: the point is settled
        return (await Governed.EventsOf(Name)).Max(e => e.Sequence);
    }

    private Task<RegistryCalls.Response> RollBack(long to, bool dryRun = false) =>
        _contributor.Send(HttpMethod.Post, $"/api/v1/models/{Name}/rollback", new { atSequence = to, reason = "v2 misbehaves", dryRun });

    [Fact]
    public async Task a_contributors_rollback_into_production_is_refused_and_its_dry_run_marks_the_change()
    {
        await Given();
        await Approved(HttpMethod.Post, $"/api/v1/models/{Name}/versions/1/stage", new { stage = "Production" });
        var v1InProduction = await Now();
        await Approved(HttpMethod.Post, $"/api/v1/models/{Name}/versions/2/stage", new { stage = "Production", archiveExisting = true });
        await Now();
        var length = await Governed.StreamLength(Name);

        var refused = await RollBack(v1InProduction);

        var problem = refused.AssertProblem(409);
        Assert.Equal("Approval required", problem["title"]!.GetValue<string>());
        Assert.Contains("version 1: Archived → Production", problem["detail"]!.GetValue<string>());
        Assert.Contains("/requests/{id}/approve", problem["detail"]!.GetValue<string>());
        Assert.Equal(1, Assert.Single(problem["changesNeedingApproval"]!.AsArray())!["version"]!.GetValue<int>());
        Assert.Equal(length, await Governed.StreamLength(Name));

        var planned = await RollBack(v1InProduction, dryRun: true);
        Assert.Equal(200, planned.Status);
        Assert.True(planned.Body!["approvalRequired"]!.GetValue<bool>());
        Assert.False(planned.Body["applied"]!.GetValue<bool>());
        var plan = planned.Body["plan"]!.AsArray().ToDictionary(c => c!["version"]!.GetValue<int>(), c => c!["requiresApproval"]!.GetValue<bool>());
        Assert.Equal(new Dictionary<int, bool> { [1] = true, [2] = false }, plan);
        Assert.Equal(length, await Governed.StreamLength(Name));
        Assert.Equal("Production", (await _host.Get($"/api/v1/models/{Name}/versions/2").Ok()).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_rollback_that_moves_champion_back_is_refused()
    {
        await Given();
        await Approved(HttpMethod.Put, $"/api/v1/models/{Name}/aliases/champion", new { version = 1 });
        var championOnV1 = await Now();
        await Approved(HttpMethod.Put, $"/api/v1/models/{Name}/aliases/champion", new { version = 2 });
        await Now();
        var length = await Governed.StreamLength(Name);

        var problem = (await RollBack(championOnV1)).AssertProblem(409);

        Assert.Contains("alias champion → version 1", problem["detail"]!.GetValue<string>());
        Assert.Equal(length, await Governed.StreamLength(Name));
        Assert.Equal(2, (await _host.Get($"/api/v1/models/{Name}/aliases/champion").Ok()).Body!["version"]!.GetValue<int>());

        // A contributor of another model learns nothing of this one, its plan included.
        await _host.RegisterModel("other-model");
        using var outsider = _host.ClientWithKey((await _host.CreateKey("contributor:other-model")).Key);
        var hidden = (await outsider.Send(HttpMethod.Post, $"/api/v1/models/{Name}/rollback", new { atSequence = championOnV1, reason = "x", dryRun = true }))
            .AssertProblem(404);
        Assert.Equal($"No model is registered under the name '{Name}'.", hidden["detail"]!.GetValue<string>());
        Assert.Equal(length, await Governed.StreamLength(Name));
    }

    [Fact]
    public async Task an_admins_registry_wide_rollback_is_refused_for_that_model_too()
    {
        await Given();
        await Approved(HttpMethod.Post, $"/api/v1/models/{Name}/versions/1/stage", new { stage = "Production" });
        var v1InProduction = await Now();
        await Approved(HttpMethod.Post, $"/api/v1/models/{Name}/versions/2/stage", new { stage = "Production", archiveExisting = true });
        await Now();
        var length = await Governed.StreamLength(Name);

        var accepted = await _host.Post("/api/v1/registry/rollback", new { atSequence = v1InProduction, reason = "emergency", models = new[] { Name } }).Ok(202);
        RegistryCalls.Response response = null!;
        Assert.True(await ClusterNode.Eventually(async () =>
            (response = await _host.Get(accepted.Header("Location")!).Ok()).Body!["state"]!.GetValue<string>() == "completed", TimeSpan.FromSeconds(60)));
        var dryRun = await _host.Post("/api/v1/registry/rollback", new { atSequence = v1InProduction, reason = "emergency", dryRun = true }).Ok();

        var outcome = Assert.Single(response.Body!["models"]!.AsArray())!;
        Assert.Equal(("failed", true), (outcome["outcome"]!.GetValue<string>(), outcome["approvalRequired"]!.GetValue<bool>()));
        Assert.Contains("four-eyes approval", outcome["error"]!.GetValue<string>());
        var planned = Assert.Single(dryRun.Body!["models"]!.AsArray())!;
        Assert.Equal(("planned", true), (planned["outcome"]!.GetValue<string>(), planned["approvalRequired"]!.GetValue<bool>()));
        Assert.Equal(length, await Governed.StreamLength(Name));
    }

    [Fact]
    public async Task a_rollback_that_only_takes_a_version_out_of_production_needs_no_approval()
    {
        await Given();
        var before = await Now();
        await Approved(HttpMethod.Post, $"/api/v1/models/{Name}/versions/1/stage", new { stage = "Production" });
        await Now();

        var response = await RollBack(before);

        Assert.True(response.Status == 200, $"{response.Status} {response.Body}");
        Assert.True(response.Body!["applied"]!.GetValue<bool>());
        Assert.False(response.Body["approvalRequired"]!.GetValue<bool>());
        Assert.Equal("None", (await _host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
    }
}
