using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Approvals;

/// <summary>
/// Four eyes with real identities (API keys with roles) on the host with default approvals: a contributor's promotion
/// to Production waits for an approver, whose approval performs it; who did what shows in history and audit.
/// </summary>
public class when_an_approver_approves(AppFixture app) : ApiTest(app)
{
    private const string Name = "credit-risk";

    private IAlbaHost _host = null!;
    private Support.Access.CreatedKey _contributor = null!;
    private Support.Access.CreatedKey _approver = null!;
    private HttpClient Contributor => _host.ClientWithKey(_contributor.Key);
    private HttpClient Approver => _host.ClientWithKey(_approver.Key);

    private async Task Given()
    {
        _host = await App.GovernedHost();
        _contributor = await _host.CreateKey("contributor");
        _approver = await _host.CreateKey("approver");
        await _host.RegisterModel(Name);
        await _host.RegisterVersion(Name, RegistryCalls.Sha256A);
        await _host.RegisterVersion(Name, RegistryCalls.Sha256B);
    }

    private IDocumentStore Governed => _host.Services.GetRequiredService<IDocumentStore>();

    private async Task<string> ContributorRequestsProduction(int version = 1)
    {
        var response = await Contributor.Send(HttpMethod.Post, $"/api/v1/models/{Name}/versions/{version}/stage",
            new { stage = "Production", reason = "Beats the baseline.", archiveExisting = true });
        Assert.True(response.Status == 202, $"{response.Status} {response.Body}");
        Assert.Equal(_contributor.Actor, response.Body!["requestedBy"]!.GetValue<string>());
        return response.Body["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task a_contributors_promotion_to_production_waits_for_an_approver_whose_approval_promotes_it()
    {
        await Given();
        var id = await ContributorRequestsProduction();
        Assert.Equal("None", (await _host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());

        var approved = await Approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve",
            new { sha256 = RegistryCalls.Sha256A, reason = "Eval report reviewed." });

        Assert.True(approved.Status == 200, $"{approved.Status} {approved.Body}");
        Assert.Equal((RequestStates.Approved, _approver.Actor), (approved.Body!["state"]!.GetValue<string>(), approved.Body["closedBy"]!.GetValue<string>()));
        var approval = Assert.Single(approved.Body["approvals"]!.AsArray())!;
        Assert.Equal((_approver.Actor, RegistryCalls.Sha256A), (approval["approver"]!.GetValue<string>(), approval["sha256"]!.GetValue<string>()));
        Assert.Equal("Production", (await _host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
        Assert.Empty((await _host.Model(Name))["pendingRequests"]!.AsArray());

        // Issue 19: the approved request showed approvalsValid 0; it shows the approval that completed it, now and later.
        Assert.Equal((1, 1), (approved.Body["approvalsValid"]!.GetValue<int>(), approved.Body["approvalsRequired"]!.GetValue<int>()));
        var shown = (await _host.Get($"/api/v1/models/{Name}/requests/{id}").Ok()).Body!;
        Assert.Equal((RequestStates.Approved, 1), (shown["state"]!.GetValue<string>(), shown["approvalsValid"]!.GetValue<int>()));
        var listed = (await _host.Get($"/api/v1/models/{Name}/requests?state=approved").Ok()).Body!["items"]!.AsArray();
        Assert.Equal(1, Assert.Single(listed)!["approvalsValid"]!.GetValue<int>());
    }

    [Fact]
    public async Task the_approvers_identity_is_in_the_history_and_the_audit_log()
    {
        await Given();
        var id = await ContributorRequestsProduction();
        await Approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { }).Ok();

        var events = await Governed.EventsOf(Name);
        var requested = events.Single(e => e.Data is TransitionRequested);
        var approvedAt = events.Single(e => e.Data is TransitionApproved);
        var moved = events.Single(e => e.Data is ModelVersionStageTransitioned { ToStage: "Production" });
        Assert.Equal(_contributor.Actor, requested.UserName);
        Assert.Equal(_approver.Actor, approvedAt.UserName);
        Assert.Equal(_approver.Actor, ((TransitionApproved)approvedAt.Data).Approver);
        Assert.True(((TransitionApproved)approvedAt.Data).Completes);
        // The transition is appended in the same commit as the last approval, under the approver's name.
        Assert.Equal(approvedAt.Version + 1, moved.Version);
        Assert.Equal(_approver.Actor, moved.UserName);

        var history = (await _host.Get($"/api/v1/models/{Name}/history").Ok()).Body!["items"]!.AsArray();
        Assert.Contains(history, e => e!["type"]!.GetValue<string>() == nameof(TransitionApproved) && e["actor"]!.GetValue<string>() == _approver.Actor);
        Assert.Contains(history, e => e!["type"]!.GetValue<string>() == nameof(TransitionRequested) && e["actor"]!.GetValue<string>() == _contributor.Actor);

        await Governed.WaitForAuditTrail();
        var byApprover = (await _host.Audit($"?actor={Uri.EscapeDataString(_approver.Actor)}")).Items();
        Assert.Equal([nameof(TransitionApproved), nameof(ModelVersionStageTransitioned)], byApprover.Select(r => r["eventType"]!.GetValue<string>()));
        Assert.Contains($"{_approver.Actor} approved request {id}", byApprover[0]["summary"]!.GetValue<string>());
    }

    [Fact]
    public async Task the_requester_cannot_approve_even_holding_the_approver_role()
    {
        await Given();
        var both = await _host.CreateKey("contributor", "approver");
        var client = _host.ClientWithKey(both.Key);
        var requested = await client.Send(HttpMethod.Post, $"/api/v1/models/{Name}/versions/1/stage", new { stage = "Production" });
        Assert.Equal(202, requested.Status);
        var before = await Governed.StreamLength(Name);

        var own = await client.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{requested.Body!["id"]}/approve", new { });

        Assert.Contains("cannot approve", own.AssertProblem(409)["detail"]!.GetValue<string>());
        Assert.Equal(before, await Governed.StreamLength(Name));
        Assert.Equal("None", (await _host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task approving_and_rejecting_take_the_approver_role_and_reading_requests_the_reader_role()
    {
        await Given();
        var id = await ContributorRequestsProduction();
        var reader = _host.ClientWithKey((await _host.CreateKey("reader")).Key);
        var before = await Governed.StreamLength(Name);

        (await Contributor.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { })).AssertProblem(403);
        (await reader.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/reject", new { reason = "No." })).AssertProblem(403);
        (await _host.AnonymousClient().Send(HttpMethod.Get, $"/api/v1/models/{Name}/requests")).AssertProblem(401);
        var listed = await reader.Send(HttpMethod.Get, $"/api/v1/models/{Name}/requests?state=pending");
        var one = await reader.Send(HttpMethod.Get, $"/api/v1/models/{Name}/requests/{id}");

        Assert.Equal(200, listed.Status);
        Assert.Equal(id, Assert.Single(listed.Body!["items"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(200, one.Status);
        Assert.Equal(before, await Governed.StreamLength(Name));
    }

    [Fact]
    public async Task an_approval_naming_another_digest_is_refused_and_appends_nothing()
    {
        await Given();
        var id = await ContributorRequestsProduction();
        var before = await Governed.StreamLength(Name);

        var response = await Approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { sha256 = RegistryCalls.Sha256B });

        var detail = response.AssertProblem(409)["detail"]!.GetValue<string>();
        Assert.Contains(RegistryCalls.Sha256B, detail);
        Assert.Contains(RegistryCalls.Sha256A, detail);
        Assert.Equal(before, await Governed.StreamLength(Name));
    }

    [Fact]
    public async Task an_approved_champion_request_moves_the_alias()
    {
        await Given();
        await _host.Put($"/api/v1/models/{Name}/aliases/challenger", new { version = 1 }).Ok();
        var requested = await Contributor.Send(HttpMethod.Put, $"/api/v1/models/{Name}/aliases/champion", new { version = 2, reason = "Wins the A/B test." });
        Assert.Equal(202, requested.Status);

        await Approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{requested.Body!["id"]}/approve", new { sha256 = RegistryCalls.Sha256B }).Ok();

        var champion = await _host.Get($"/api/v1/models/{Name}/aliases/champion").Ok();
        Assert.Equal(2, champion.Body!["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task an_approver_rejects_and_the_version_stays_where_it_was()
    {
        await Given();
        var id = await ContributorRequestsProduction();

        var rejected = await Approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/reject", new { reason = "Fairness review pending." });

        Assert.Equal(200, rejected.Status);
        Assert.Equal((RequestStates.Rejected, _approver.Actor), (rejected.Body!["state"]!.GetValue<string>(), rejected.Body["closedBy"]!.GetValue<string>()));
        Assert.Equal("None", (await _host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
    }
}
