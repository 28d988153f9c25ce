using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_deciding_in_the_approvals_inbox(ConsoleFixture console) : ConsoleTest(console)
{
    /// <summary>A workspace whose Production needs one approval, and a pending request to enter it, made by a key that is also an approver.</summary>
    private sealed record Pending(string Ws, string Admin, string Model, int Version, Guid Request, string Requester, string Approver, string ApproverActor)
    {
        public string Api => $"/api/v1/workspaces/{Ws}";
        public string Inbox => $"/console/workspaces/{Ws}/approvals";
    }

    private async Task<Pending> PendingProductionRequest(string reason)
    {
        var (ws, _, admin) = await WorkspaceWithKey("reader");
        // Production protected in this workspace only: the default workspace's promotions act at once for the other tests.
        var policy = await Call(HttpMethod.Put, $"/api/v1/workspaces/{ws}/settings/policy",
            new { approvals = new { protectedStages = new[] { "Production" }, requiredApprovals = 1 }, reason = "four eyes for Production" }, admin);
        Assert.True(policy.Status == 200, $"{policy.Status} {policy.Body}");
        var (requester, _) = await KeyIn(ws, admin, new { role = "contributor" }, new { role = "approver" });
        var (approver, approverName) = await KeyIn(ws, admin, new { role = "approver" });
        var model = Unique("fraud");
        var api = $"/api/v1/workspaces/{ws}";
        await RegisterModel(model, prefix: api, key: requester);
        var version = await RegisterVersion(model, api, requester);
        var asked = await Call(HttpMethod.Post, $"{api}/models/{model}/versions/{version}/stage",
            new { stage = "Production", reason, archiveExisting = true }, requester);
        Assert.True(asked.Status == 202, $"{asked.Status} {asked.Body}");
        return new Pending(ws, admin, model, version, Guid.Parse(asked.Body!["id"]!.GetValue<string>()), requester, approver, "key:" + approverName);
    }

    private async Task<long> Revision(Pending p)
    {
        var model = await Call(HttpMethod.Get, $"{p.Api}/models/{p.Model}", key: p.Admin);
        Assert.True(model.Status == 200, $"{model.Status} {model.Body}");
        return model.Body!["revision"]!.GetValue<long>();
    }

    /// <summary>The form a page would post, sent by the page's own session (its cookies), with or without the form's token.</summary>
    private static async Task<IAPIResponse> Post(IPage page, Pending p, string decision, bool withToken = true, string reason = "forged")
    {
        var form = page.APIRequest.CreateFormData();
        form.Set("modelName", p.Model);
        form.Set("requestId", p.Request.ToString());
        form.Set("reason", reason);
        form.Set("decision", decision);
        if (withToken) form.Set("__RequestVerificationToken", await page.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value") ?? "");
        return await page.APIRequest.PostAsync(p.Inbox, new() { Form = form, MaxRedirects = 0 });
    }

    [Fact]
    public async Task an_approver_approves_a_pending_production_request_and_the_requester_cannot()
    {
        var p = await PendingProductionRequest(when_text_is_hostile.Hostile);

        // The requester (an approver too) sees its own request, without a button, and the server refuses a forged approval.
        var page = await SignIn(p.Requester);
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        await page.Locator("nav.pages a", new() { HasText = "Approvals" }).ClickAsync();
        await Reached(page, p.Inbox);
        var own = page.Locator("li.request");
        await Assertions.Expect(own).ToHaveCountAsync(1);
        Assert.Equal(0, await page.Locator("main form[method=post]").CountAsync());
        Assert.Contains("You made this request", await own.Locator(".whynot").InnerTextAsync());
        var before = await Revision(p);
        var forged = await Post(page, p, "approve");
        Assert.Equal(409, forged.Status);
        var refusal = await forged.TextAsync();
        Assert.Contains("cannot approve it: four eyes", refusal);
        Assert.DoesNotContain("Exception", refusal);
        Assert.Equal(before, await Revision(p));

        // The approver: the request with its digest, verification, gates, requester and the hostile reason as text.
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        page = await SignIn(p.Approver);
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        await page.GotoAsync($"/console/workspaces/{p.Ws}/models/{p.Model}");
        await page.Locator("p.pending a").ClickAsync();
        await Reached(page, p.Inbox);
        var request = page.Locator("li.request");
        await Assertions.Expect(request).ToHaveCountAsync(1);
        Assert.Contains($"version {p.Version} to Production", await request.Locator("h2").InnerTextAsync());
        Assert.Equal(when_text_is_hostile.Hostile, await request.Locator("dd.reason").InnerTextAsync());
        Assert.Equal(new string('a', 64), await request.Locator("dd.digest").InnerTextAsync());
        Assert.Contains("not verified", await request.Locator("dd.verification").InnerTextAsync());
        Assert.Equal("none", (await request.Locator("dd.gates").InnerTextAsync()).Trim());
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        await AssertAccessible(page);

        await request.Locator("textarea[name=reason]").FillAsync("reviewed the evaluation report");
        await request.Locator("button[value=approve]").ClickAsync();
        await Reached(page, new Regex("outcome=approved"));
        Assert.Contains("approved", await page.Locator("p.done").InnerTextAsync());
        await Assertions.Expect(page.Locator("li.request")).ToHaveCountAsync(0);
        Assert.Empty(dialogs);

        // In Production, recorded as the approver's key did it, with the reason given.
        await page.GotoAsync($"/console/workspaces/{p.Ws}/models/{p.Model}");
        Assert.Equal("Production", await page.Locator("table.versions tbody tr td.stage").InnerTextAsync());
        var history = await Call(HttpMethod.Get, $"{p.Api}/models/{p.Model}/history", key: p.Admin);
        var approved = history.Body!["items"]!.AsArray().Single(e => e!["type"]!.GetValue<string>() == "TransitionApproved")!;
        Assert.Equal(p.ApproverActor, approved["actor"]!.GetValue<string>());
        Assert.Equal("reviewed the evaluation report", approved["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_reader_and_a_key_of_another_model_see_nothing_to_decide_and_a_post_without_the_token_is_refused()
    {
        var p = await PendingProductionRequest("ship it");
        var (reader, _) = await KeyIn(p.Ws, p.Admin, new { role = "reader" });
        var other = Unique("other");
        await RegisterModel(other, prefix: p.Api, key: p.Admin);
        var (scoped, _) = await KeyIn(p.Ws, p.Admin, new { role = "approver", model = other });
        var before = await Revision(p);

        // A reader: no link to the inbox, no command button on any page, nothing to decide.
        var page = await SignIn(reader);
        Assert.Equal(0, await page.Locator("nav.pages").CountAsync());
        foreach (var path in new[] { $"/console/workspaces/{p.Ws}/registry", $"/console/workspaces/{p.Ws}/models/{p.Model}", p.Inbox })
        {
            Assert.Equal(200, (await page.GotoAsync(path))!.Status);
            Assert.Equal(0, await page.Locator("main form[method=post], main button[value]").CountAsync());
        }
        Assert.Equal(0, await page.Locator("li.request").CountAsync());
        Assert.Equal(0, await page.Locator("p.pending").CountAsync());
        Assert.Equal(403, (await Post(page, p, "approve")).Status);
        await AssertAccessible(page);

        // An approver of another model: an empty inbox that says nothing of this model, not even that something waits.
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        page = await SignIn(scoped);
        await page.GotoAsync(p.Inbox);
        Assert.Equal(0, await page.Locator("li.request").CountAsync());
        Assert.Contains("Nothing waits", await page.Locator("main").InnerTextAsync());
        Assert.DoesNotContain(p.Model, await page.ContentAsync());
        Assert.DoesNotContain(p.Request.ToString(), await page.ContentAsync());
        // A forged decision of this model's request is answered as for a model that does not exist.
        var hidden = await Post(page, p, "reject");
        Assert.Equal(404, hidden.Status);
        Assert.Contains($"No model is registered under the name &#x27;{p.Model}&#x27;", await hidden.TextAsync());

        // Without the form's token, even an approver's session posts nothing.
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        page = await SignIn(p.Approver);
        await page.GotoAsync(p.Inbox);
        await Assertions.Expect(page.Locator("li.request")).ToHaveCountAsync(1);
        Assert.Equal(400, (await Post(page, p, "approve", withToken: false)).Status);
        // A decision needs a reason, whatever the form's required attribute let through.
        var blank = await Post(page, p, "reject", reason: "  ");
        Assert.Equal(422, blank.Status);
        Assert.Contains("Give a reason", await blank.TextAsync());
        Assert.Equal(before, await Revision(p));

        // The approver rejects it instead: closed, and gone from the inbox.
        var request = page.Locator("li.request");
        await request.Locator("textarea[name=reason]").FillAsync("the evaluation used last year's data");
        await request.Locator("button[value=reject]").ClickAsync();
        await Reached(page, new Regex("outcome=rejected"));
        Assert.Contains("rejected", await page.Locator("p.done").InnerTextAsync());
        await Assertions.Expect(page.Locator("li.request")).ToHaveCountAsync(0);
        Assert.Equal(before + 1, await Revision(p));
    }
}
