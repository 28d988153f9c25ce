using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Approvals;

/// <summary>
/// Against a host with the product's default approvals: Production and champion protected, one approval.
/// A promotion or alias move there records a request (202) and moves nothing; the request is listed, read, shown in the
/// model view, history and audit log, and closed by a rejection.
/// </summary>
public class when_a_protected_transition_is_requested(AppFixture app) : ApiTest(app)
{
    private const string Name = "fraud-scorer";

    private async Task<(IAlbaHost Host, IDocumentStore Store)> Governed()
    {
        var host = await App.GovernedHost();
        await host.RegisterModel(Name);
        await host.RegisterVersion(Name, RegistryCalls.Sha256A);
        await host.RegisterVersion(Name, RegistryCalls.Sha256B);
        await host.Promote(Name, 1, "Staging").Ok();
        return (host, host.Services.GetRequiredService<IDocumentStore>());
    }

    private static async Task<JsonNode> RequestProduction(IAlbaHost host, int version = 1, string reason = "AUC 0.93 on holdout.")
    {
        var response = await host.Promote(Name, version, "production", archiveExisting: true, reason: reason).Ok(202);
        Assert.Equal($"/api/v1/models/{Name}/requests/{response.Body!["id"]}", response.Header("Location"));
        return response.Body!;
    }

    [Fact]
    public async Task a_promotion_to_production_answers_202_with_the_request_and_moves_nothing()
    {
        var (host, _) = await Governed();

        var request = await RequestProduction(host);

        Assert.Equal((TransitionKinds.Stage, 1, "Production", true), (request["kind"]!.GetValue<string>(), request["version"]!.GetValue<int>(),
            request["target"]!.GetValue<string>(), request["archiveExisting"]!.GetValue<bool>()));
        Assert.Equal((RequestStates.Pending, RegistryCalls.Sha256A, 1, 0),
            (request["state"]!.GetValue<string>(), request["sha256"]!.GetValue<string>(),
             request["approvalsRequired"]!.GetValue<int>(), request["approvalsValid"]!.GetValue<int>()));
        Assert.Equal("AUC 0.93 on holdout.", request["reason"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(request["requestedBy"]!.GetValue<string>()));

        var version = (await host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!;
        Assert.Equal("Staging", version["stage"]!.GetValue<string>());
        var model = await host.Model(Name);
        var pending = Assert.Single(model["pendingRequests"]!.AsArray());
        Assert.Equal(request["id"]!.GetValue<string>(), pending!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task an_unprotected_stage_still_moves_at_once()
    {
        var (host, _) = await Governed();

        var response = await host.Promote(Name, 2, "Staging").Ok();

        Assert.Equal("Staging", response.Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task moving_champion_is_requested_but_another_alias_moves_at_once()
    {
        var (host, _) = await Governed();

        var champion = await host.Put($"/api/v1/models/{Name}/aliases/Champion", new { version = 2, reason = "Better recall." }).Ok(202);
        await host.Put($"/api/v1/models/{Name}/aliases/challenger", new { version = 2 }).Ok();

        Assert.Equal((TransitionKinds.Alias, "champion", 2), (champion.Body!["kind"]!.GetValue<string>(),
            champion.Body["target"]!.GetValue<string>(), champion.Body["version"]!.GetValue<int>()));
        await host.Get($"/api/v1/models/{Name}/aliases/champion").Ok(404);
        Assert.Equal(2, (await host.Model(Name))["aliases"]!["challenger"]!.GetValue<int>());
    }

    [Fact]
    public async Task the_requester_cannot_approve_their_own_request_and_nothing_is_appended()
    {
        var (host, store) = await Governed();
        var request = await RequestProduction(host);
        var before = await store.StreamLength(Name);

        var response = await host.Post($"/api/v1/models/{Name}/requests/{request["id"]}/approve", new { });

        var problem = response.AssertProblem(409);
        Assert.Contains("cannot approve", problem["detail"]!.GetValue<string>());
        Assert.Equal(before, await store.StreamLength(Name));
    }

    [Fact]
    public async Task requests_are_listed_newest_first_filtered_by_state_and_read_one_by_one()
    {
        var (host, _) = await Governed();
        var first = await RequestProduction(host, reason: "First try.");
        var second = await RequestProduction(host, reason: "Second try.");

        var all = (await host.Get($"/api/v1/models/{Name}/requests").Ok()).Body!["items"]!.AsArray();
        var pending = (await host.Get($"/api/v1/models/{Name}/requests?state=pending").Ok()).Body!["items"]!.AsArray();
        var superseded = (await host.Get($"/api/v1/models/{Name}/requests?state=superseded").Ok()).Body!["items"]!.AsArray();
        var one = (await host.Get($"/api/v1/models/{Name}/requests/{first["id"]}").Ok()).Body!;

        Assert.Equal([second["id"]!.GetValue<string>(), first["id"]!.GetValue<string>()], all.Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(second["id"]!.GetValue<string>(), Assert.Single(pending)!["id"]!.GetValue<string>());
        Assert.Equal(first["id"]!.GetValue<string>(), Assert.Single(superseded)!["id"]!.GetValue<string>());
        Assert.Equal((RequestStates.Superseded, second["id"]!.GetValue<string>()),
            (one["state"]!.GetValue<string>(), one["supersededBy"]!.GetValue<string>()));
    }

    [Fact]
    public async Task a_rejection_closes_the_request_with_its_reason()
    {
        var (host, store) = await Governed();
        var request = await RequestProduction(host);

        var rejected = await host.Post($"/api/v1/models/{Name}/requests/{request["id"]}/reject", new { reason = "Withdrawn: wrong data cut." }).Ok();

        Assert.Equal((RequestStates.Rejected, "Withdrawn: wrong data cut."),
            (rejected.Body!["state"]!.GetValue<string>(), rejected.Body["closedReason"]!.GetValue<string>()));
        Assert.Empty((await host.Model(Name))["pendingRequests"]!.AsArray());
        var before = await store.StreamLength(Name);
        var again = await host.Post($"/api/v1/models/{Name}/requests/{request["id"]}/approve", new { });
        Assert.Contains("rejected", again.AssertProblem(409)["detail"]!.GetValue<string>());
        Assert.Equal(before, await store.StreamLength(Name));
        Assert.Equal("Staging", (await host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task bad_input_to_approve_and_reject_is_refused_and_appends_nothing()
    {
        var (host, store) = await Governed();
        var request = await RequestProduction(host);
        var before = await store.StreamLength(Name);
        var url = $"/api/v1/models/{Name}/requests";

        (await host.Post($"{url}/not-a-guid/approve", new { })).AssertProblem(400, "id");
        (await host.Post($"{url}/{request["id"]}/approve", new { sha256 = "abc" })).AssertProblem(400, "sha256");
        (await host.Post($"{url}/{request["id"]}/reject", new { })).AssertProblem(400, "reason");
        (await host.Post($"{url}/{request["id"]}/reject", new { reason = "  " })).AssertProblem(400, "reason");
        (await host.Post($"{url}/{Guid.NewGuid()}/approve", new { })).AssertProblem(404);
        (await host.Post($"{url}/{Guid.NewGuid()}/reject", new { reason = "No." })).AssertProblem(404);
        (await host.Post($"/api/v1/models/no-such-model/requests/{request["id"]}/approve", new { })).AssertProblem(404);
        (await host.Get($"{url}/{Guid.NewGuid()}")).AssertProblem(404);
        (await host.Get($"{url}?state=open")).AssertProblem(400, "state");

        Assert.Equal(before, await store.StreamLength(Name));
    }

    [Fact]
    public async Task the_request_and_its_rejection_are_in_the_history_and_the_audit_log()
    {
        var (host, store) = await Governed();
        var request = await RequestProduction(host);
        await host.Post($"/api/v1/models/{Name}/requests/{request["id"]}/reject", new { reason = "Not this week." }).Ok();

        var history = (await host.Get($"/api/v1/models/{Name}/history").Ok()).Body!["items"]!.AsArray();
        var requested = history.Single(e => e!["type"]!.GetValue<string>() == nameof(TransitionRequested))!;
        var rejected = history.Single(e => e!["type"]!.GetValue<string>() == nameof(TransitionRejected))!;
        Assert.Equal(requested["actor"]!.GetValue<string>(), requested["data"]!["requestedBy"]!.GetValue<string>());
        Assert.Equal("Not this week.", rejected["data"]!["reason"]!.GetValue<string>());

        await store.WaitForAuditTrail();
        var audit = (await host.Audit($"?model={Name}")).Items();
        var row = audit.Single(r => r["eventType"]!.GetValue<string>() == nameof(TransitionRequested));
        Assert.Contains("requested version 1 → Production", row["summary"]!.GetValue<string>());
        var rejection = audit.Single(r => r["eventType"]!.GetValue<string>() == nameof(TransitionRejected));
        Assert.Equal("Not this week.", rejection["reason"]!.GetValue<string>());
    }
}
