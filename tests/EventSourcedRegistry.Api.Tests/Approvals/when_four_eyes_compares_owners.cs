using Alba;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Approvals;

/// <summary>
/// Issue 13, item 5, through real keys on the host with default approvals. On main each of these approvals counted
/// (four eyes compared key names): a second key of the requester's owner, a key the requester made, an approver
/// approving what a key they made requested, an admin approving with a key minted for it, a token whose subject owns
/// the requesting key. Each is now 409 and appends nothing.
/// </summary>
public class when_four_eyes_compares_owners(AppFixture app) : ApiTest(app)
{
    private const string Name = "credit-risk";
    private IAlbaHost _host = null!;
    private IDocumentStore Governed => _host.Services.GetRequiredService<IDocumentStore>();

    private async Task Given()
    {
        _host = await App.GovernedHost();
        await _host.RegisterModel(Name);
        await _host.RegisterVersion(Name, RegistryCalls.Sha256A);
    }

    private async Task<string> RequestProduction(HttpClient requester)
    {
        var response = await requester.Send(HttpMethod.Post, $"/api/v1/models/{Name}/versions/1/stage", new { stage = "Production", reason = "Ready." });
        Assert.True(response.Status == 202, $"{response.Status} {response.Body}");
        return response.Body!["id"]!.GetValue<string>();
    }

    private async Task ApprovalIsRefused(HttpClient approver, string id, params string[] named)
    {
        var before = await Governed.StreamLength(Name);
        var response = await approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { reason = "Looks fine." });
        var detail = response.AssertProblem(409)["detail"]!.GetValue<string>();
        foreach (var thing in named) Assert.Contains(thing, detail);
        Assert.Equal(before, await Governed.StreamLength(Name));
        Assert.Equal("None", (await _host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
    }

    private async Task ApprovalCounts(HttpClient approver, string id)
    {
        var response = await approver.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { });
        Assert.True(response.Status == 200, $"{response.Status} {response.Body}");
        Assert.Equal("Production", (await _host.Get($"/api/v1/models/{Name}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_second_key_of_the_same_owner_cannot_approve()
    {
        await Given();
        var owner = $"alice-{Guid.NewGuid():N}@example.com";
        var contributor = _host.ClientWithKey((await _host.CreateKeyFor(owner, ["contributor"])).Key);
        var approver = _host.ClientWithKey((await _host.CreateKeyFor(owner.ToUpperInvariant(), ["approver"])).Key);
        var id = await RequestProduction(contributor);

        await ApprovalIsRefused(approver, id, "cannot approve", "both belong to");
        // An approver of another model cannot approve here, and learns nothing of this model.
        await _host.RegisterModel("other-model");
        using var outsider = _host.ClientWithKey((await _host.CreateKey("approver:other-model")).Key);
        (await outsider.Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { })).AssertProblem(404);
        await ApprovalCounts(_host.ClientWithKey((await _host.CreateKey("approver")).Key), id);
    }

    [Fact]
    public async Task a_key_the_requester_created_cannot_approve_whatever_owner_it_names()
    {
        await Given();
        var admin = await _host.CreateKeyFor($"alice-{Guid.NewGuid():N}", ["admin"]);
        var adminClient = _host.ClientWithKey(admin.Key);
        var madeByAlice = await _host.CreateKeyFor($"carol-{Guid.NewGuid():N}", ["approver"], by: adminClient);
        var id = await RequestProduction(adminClient);

        await ApprovalIsRefused(_host.ClientWithKey(madeByAlice.Key), id, "cannot approve", "issued");
    }

    [Fact]
    public async Task an_approver_cannot_approve_a_request_made_with_a_key_they_created()
    {
        await Given();
        var bob = _host.ClientWithKey((await _host.CreateKeyFor($"bob-{Guid.NewGuid():N}", ["admin"])).Key);
        var pipeline = await _host.CreateKeyFor("churn-training", ["contributor"], by: bob);
        var id = await RequestProduction(_host.ClientWithKey(pipeline.Key));

        await ApprovalIsRefused(bob, id, "cannot approve", $"key:{pipeline.Name} is a key bob-");
        await ApprovalCounts(_host.ClientWithKey((await _host.CreateKey("approver")).Key), id);
    }

    [Fact]
    public async Task an_admin_cannot_approve_their_own_request_with_an_approver_key_they_minted_for_themselves()
    {
        await Given();
        var owner = $"alice-{Guid.NewGuid():N}";
        var admin = _host.ClientWithKey((await _host.CreateKeyFor(owner, ["admin"])).Key);
        var selfMinted = await _host.CreateKeyFor(owner, ["approver"], by: admin);
        var id = await RequestProduction(admin);

        await ApprovalIsRefused(admin, id, "cannot approve");
        await ApprovalIsRefused(_host.ClientWithKey(selfMinted.Key), id, "cannot approve");
    }

    [Fact]
    public async Task a_token_counts_as_the_owner_its_subject_names()
    {
        await Given();
        var subject = $"alice-{Guid.NewGuid():N}";
        var keyOfAlice = _host.ClientWithKey((await _host.CreateKeyFor(subject, ["approver"])).Key);
        var id = await RequestProduction(_host.ClientWithToken(Support.Access.Token(subject, ["contributor"])));

        await ApprovalIsRefused(keyOfAlice, id, "both belong to");
    }

    [Fact]
    public async Task the_events_and_the_request_show_which_owner_and_key_each_decision_was_based_on()
    {
        await Given();
        var pipeline = await _host.CreateKeyFor("churn-training", ["contributor"]);
        var erin = await _host.CreateKeyFor($"erin-{Guid.NewGuid():N}", ["approver"]);
        var id = await RequestProduction(_host.ClientWithKey(pipeline.Key));
        var approved = await _host.ClientWithKey(erin.Key).Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { });

        Assert.Equal(("churn-training", pipeline.Id), (approved.Body!["requesterOwner"]!.GetValue<string>(), approved.Body["requesterKeyId"]!.GetValue<string>()));
        var approval = Assert.Single(approved.Body["approvals"]!.AsArray())!;
        Assert.Equal(erin.Id, approval["approverKeyId"]!.GetValue<string>());

        var events = await Governed.EventsOf(Name);
        var requested = (TransitionRequested)events.Single(e => e.Data is TransitionRequested).Data;
        var approval2 = (TransitionApproved)events.Single(e => e.Data is TransitionApproved).Data;
        Assert.Equal(("churn-training", pipeline.Id), (requested.RequesterOwner, requested.RequesterKeyId));
        Assert.Equal([AppFixture.AdminActor], requested.RequesterKeyIssuers!);
        Assert.Equal((erin.Id, erin.Actor), (approval2.ApproverKeyId, approval2.Approver));
        Assert.StartsWith("erin-", approval2.ApproverOwner);

        await Governed.WaitForAuditTrail();
        var row = (await _host.Audit($"?type={nameof(TransitionApproved)}")).Items().Single();
        Assert.Contains($"owner {approval2.ApproverOwner}, key {erin.Id}", row["summary"]!.GetValue<string>());
    }
}
