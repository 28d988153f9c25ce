using System.Text.RegularExpressions;
using EventSourcedRegistry.ConsoleTests.Support;
using Microsoft.Playwright;

namespace EventSourcedRegistry.ConsoleTests;

public sealed class when_rolling_back_through_the_console(ConsoleFixture console) : ConsoleTest(console)
{
    /// <summary>A model whose version 1 was in Production at <c>Instant</c>; version 2 replaced it since.</summary>
    private sealed record Released(string Model, DateTimeOffset Instant)
    {
        public string Page => $"/console/workspaces/default/models/{Model}";
        public string Rollback => Page + "/rollback";
        public string Plan => Rollback + "?asOf=" + Uri.EscapeDataString(Instant.ToString("O"));
    }

    private async Task<Released> ReleasedTwice()
    {
        var model = Unique("fraud");
        await RegisterModel(model);
        var first = await RegisterVersion(model);
        await Promote(model, first, "Production", "first release");
        await Task.Delay(200);
        var instant = DateTimeOffset.UtcNow;
        await Task.Delay(200);
        var second = await RegisterVersion(model);
        await Promote(model, second, "Production", "second release");
        return new Released(model, instant);
    }

    /// <summary>A key of default with these grants, and the actor its events record.</summary>
    private async Task<(string Key, string Actor)> Key(params object[] grants)
    {
        var name = Unique("key");
        var made = await Call(HttpMethod.Post, "/api/v1/admin/keys", new { name, owner = Unique("owner"), grants });
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return (made.Body!["key"]!.GetValue<string>(), "key:" + name);
    }

    private async Task<long> Revision(string model, string prefix = "/api/v1", string? key = null)
    {
        var read = await Call(HttpMethod.Get, $"{prefix}/models/{model}", key: key);
        Assert.True(read.Status == 200, $"{read.Status} {read.Body}");
        return read.Body!["revision"]!.GetValue<long>();
    }

    /// <summary>The confirmation a page would post, sent by the page's own session with the form's token.</summary>
    private static async Task<IAPIResponse> Forge(IPage page, Released r, long revision, Guid modelId, string reason = "forged")
    {
        var form = page.APIRequest.CreateFormData();
        form.Set("asOf", r.Instant.ToString("O"));
        form.Set("revision", revision.ToString());
        form.Set("modelId", modelId.ToString());
        form.Set("reason", reason);
        form.Set("__RequestVerificationToken", await page.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value") ?? "");
        return await page.APIRequest.PostAsync(r.Rollback, new() { Form = form, MaxRedirects = 0 });
    }

    [Fact]
    public async Task a_release_manager_rolls_back_through_the_plan_and_the_timeline_records_who_and_why()
    {
        var r = await ReleasedTwice();
        var (key, actor) = await Key(new { role = "contributor" });
        var page = await SignIn(key);
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };

        // A name no model holds is a missing page, as the model page answers it.
        Assert.Equal(404, (await page.GotoAsync($"/console/workspaces/default/models/{Unique("missing")}/rollback"))!.Status);

        // From the model's page, through its link, to the plan for the instant.
        await page.GotoAsync(r.Page);
        await page.Locator("p.rollback-link a").ClickAsync();
        await Reached(page, r.Rollback);

        // Instants the API refuses are its messages on the page, with no plan and nothing to confirm.
        foreach (var (instant, says) in new[] { ("yesterday", "asOf"), (DateTimeOffset.UtcNow.AddDays(1).ToString("O"), "future") })
        {
            await page.Locator("#asOf").FillAsync(instant);
            await page.Locator("form.filters button[type=submit]").ClickAsync();
            await Reached(page, new Regex("asOf="));
            Assert.Contains(says, await page.Locator("p.problem").InnerTextAsync());
            Assert.Equal(0, await page.Locator("form.confirm").CountAsync());
        }

        await page.Locator("#asOf").FillAsync(r.Instant.ToString("O"));
        await page.Locator("form.filters button[type=submit]").ClickAsync();
        await Reached(page, new Regex(Regex.Escape("asOf=" + Uri.EscapeDataString(r.Instant.ToString("O")))));
        var rows = page.Locator("table.plan tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var back = rows.Filter(new() { HasText = "version 1" });
        Assert.Equal("Archived", await back.Locator("td.from").InnerTextAsync());
        Assert.Equal("Production", await back.Locator("td.to").InnerTextAsync());
        Assert.Equal("Production", await rows.Filter(new() { HasText = "version 2" }).Locator("td.from").InnerTextAsync());
        await AssertAccessible(page);

        // A blank reason (past the form's required attribute) is the API's refusal, and appends nothing.
        var before = await Revision(r.Model);
        var shown = long.Parse(await page.Locator("span.revision").InnerTextAsync());
        Assert.Equal(before, shown);
        var modelId = Guid.Parse(await page.Locator("form.confirm input[name=modelId]").GetAttributeAsync("value") ?? "");
        var blank = await Forge(page, r, shown, modelId, reason: "   ");
        Assert.Equal(400, blank.Status);
        Assert.Contains("A rollback needs a reason", await blank.TextAsync());
        Assert.Equal(before, await Revision(r.Model));

        // Confirmed with a hostile reason: back on the model's page, version 1 in Production, the rollback in the
        // timeline with the key's actor and the reason as text.
        await page.Locator("#reason").FillAsync(when_text_is_hostile.Hostile);
        await page.Locator("form.confirm button[type=submit]").ClickAsync();
        await Reached(page, new Regex(Regex.Escape(r.Page) + "$"));
        var stages = page.Locator("table.versions tbody tr");
        Assert.Equal("Production", await stages.Filter(new() { Has = page.Locator("th", new() { HasTextRegex = new Regex("^1$") }) }).Locator("td.stage").InnerTextAsync());
        var performed = page.Locator("table.timeline tbody tr", new() { HasText = "RollbackPerformed" });
        await Assertions.Expect(performed).ToHaveCountAsync(1);
        Assert.Equal(actor, await performed.Locator("td.actor").InnerTextAsync());
        Assert.Equal(when_text_is_hostile.Hostile, await performed.Locator("td.reason").InnerTextAsync());
        Assert.Equal(0, await page.Locator("main img, main script").CountAsync());
        Assert.Empty(dialogs);

        // The plan at the same instant now has nothing left to do, and offers nothing.
        await page.GotoAsync(r.Plan);
        Assert.Contains("Nothing to roll back", await page.Locator("p.unchanged").InnerTextAsync());
        Assert.Equal(0, await page.Locator("form.confirm").CountAsync());
    }

    [Fact]
    public async Task a_confirmation_rolls_back_only_the_plan_it_was_shown()
    {
        var r = await ReleasedTwice();
        var (key, _) = await Key(new { role = "contributor" });
        var page = await SignIn(key);
        await page.GotoAsync(r.Plan);
        await Assertions.Expect(page.Locator("table.plan tbody tr")).ToHaveCountAsync(2);

        // The model changes between the plan and the confirmation: refused with the API's 412, nothing appended, and the
        // page shows the plan as it is now.
        await Alias(r.Model, "champion", 2, "meanwhile, elsewhere");
        var changed = await Revision(r.Model);
        await page.Locator("#reason").FillAsync("the second release misbehaves");
        var refused = await page.RunAndWaitForResponseAsync(() => page.Locator("form.confirm button[type=submit]").ClickAsync(),
            response => response.Request.Method == "POST");
        Assert.Equal(412, refused.Status);
        Assert.Contains("Stale revision", await page.Locator("p.problem").InnerTextAsync());
        Assert.Equal(changed, await Revision(r.Model));
        await Assertions.Expect(page.Locator("table.plan tbody tr")).ToHaveCountAsync(3);
        Assert.Equal(changed, long.Parse(await page.Locator("span.revision").InnerTextAsync()));

        // The name now names another model at the very revision the plan was made at: refused too, neither model changed.
        var renamed = Unique("renamed");
        var moved = await Call(HttpMethod.Post, $"/api/v1/models/{r.Model}/rename", new { newName = renamed, reason = "make room" });
        Assert.True(moved.Status == 200, $"{moved.Status} {moved.Body}");
        await RegisterModel(r.Model);
        for (var i = 0; await Revision(r.Model) < changed; i++)
        {
            var edited = await Call(HttpMethod.Patch, $"/api/v1/models/{r.Model}", new { description = $"edit {i}" });
            Assert.True(edited.Status == 200, $"{edited.Status} {edited.Body}");
        }
        Assert.Equal(changed, await Revision(r.Model));
        await page.Locator("#reason").FillAsync("the second release misbehaves");
        refused = await page.RunAndWaitForResponseAsync(() => page.Locator("form.confirm button[type=submit]").ClickAsync(),
            response => response.Request.Method == "POST");
        Assert.Equal(412, refused.Status);
        Assert.Contains("names another model", await page.Locator("p.problem").InnerTextAsync());
        Assert.Equal(changed, await Revision(r.Model));
        Assert.Equal(changed + 1, await Revision(renamed));
    }

    [Fact]
    public async Task a_reader_and_a_contributor_of_another_model_see_no_rollback_and_cannot_forge_one()
    {
        var r = await ReleasedTwice();
        var modelId = Guid.Parse((await Call(HttpMethod.Get, $"/api/v1/models/{r.Model}")).Body!["id"]!.GetValue<string>());
        var other = Unique("other");
        await RegisterModel(other);
        var (reader, _) = await Key(new { role = "reader" });
        var (scoped, _) = await Key(new { role = "contributor", model = other });
        var before = await Revision(r.Model);

        // A reader: no link, the page answers 403 without a form, and a forged confirmation is refused.
        var page = await SignIn(reader);
        await page.GotoAsync(r.Page);
        await Assertions.Expect(page.Locator("table.versions")).ToHaveCountAsync(1);
        Assert.Equal(0, await page.Locator("p.rollback-link").CountAsync());
        var forbidden = await page.GotoAsync(r.Plan);
        Assert.Equal(403, forbidden!.Status);
        Assert.Equal(0, await page.Locator("main form, table.plan").CountAsync());
        Assert.Equal(403, (await Forge(page, r, before, modelId)).Status);
        await AssertAccessible(page);

        // A contributor of another model: its own model's link is there; this model's pages answer exactly as a model
        // that does not exist, naming nothing of it.
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        page = await SignIn(scoped);
        await page.GotoAsync($"/console/workspaces/default/models/{other}");
        await Assertions.Expect(page.Locator("p.rollback-link a")).ToHaveCountAsync(1);
        var hidden = await page.GotoAsync(r.Plan);
        var missing = await page.APIRequest.GetAsync($"/console/workspaces/default/models/{Unique("missing")}/rollback?asOf=" + Uri.EscapeDataString(r.Instant.ToString("O")));
        Assert.Equal(404, hidden!.Status);
        Assert.Equal(404, missing.Status);
        var body = await hidden.TextAsync();
        Assert.Equal(WithoutTraceId(await missing.TextAsync()), WithoutTraceId(body));
        Assert.DoesNotContain(r.Model, body);
        await page.GotoAsync($"/console/workspaces/default/models/{other}");
        var forged = await Forge(page, r, before, modelId);
        Assert.Equal(404, forged.Status);
        Assert.DoesNotContain(r.Model, await forged.TextAsync());
        Assert.Equal(before, await Revision(r.Model));
    }

    [Fact]
    public async Task an_admin_rolls_the_registry_back_model_by_model_and_a_model_changed_meanwhile_is_refused()
    {
        var (ws, admin, wsAdmin) = await WorkspaceWithKey("admin");
        var api = $"/api/v1/workspaces/{ws}";
        var (first, second) = (Unique("alpha"), Unique("beta"));
        foreach (var model in new[] { first, second })
        {
            await RegisterModel(model, prefix: api, key: admin);
            await Promote(model, await RegisterVersion(model, api, admin), "Production", "first release", api, admin);
        }
        await Task.Delay(200);
        var instant = DateTimeOffset.UtcNow.ToString("O");
        await Task.Delay(200);
        foreach (var model in new[] { first, second })
            await Promote(model, await RegisterVersion(model, api, admin), "Production", "second release", api, admin);
        var reader = await Call(HttpMethod.Post, $"{api}/admin/keys", new { name = Unique("reader"), owner = Unique("owner"), grants = new[] { new { role = "reader" } } }, wsAdmin);
        Assert.True(reader.Status == 201, $"{reader.Status} {reader.Body}");

        var page = await SignIn(admin);
        await page.Locator("p.rollback-link a").ClickAsync();
        await Reached(page, $"/console/workspaces/{ws}/rollback");
        await page.Locator("#asOf").FillAsync(instant);
        await page.Locator("form.filters button[type=submit]").ClickAsync();
        await Reached(page, new Regex("asOf="));
        await Assertions.Expect(page.Locator("table.plan tbody tr")).ToHaveCountAsync(4);
        await AssertAccessible(page);

        // The second model changes after the plan: the first is rolled back, the second refused with nothing appended.
        var aliased = await Call(HttpMethod.Put, $"{api}/models/{second}/aliases/champion", new { version = 2, reason = "meanwhile" }, admin);
        Assert.True(aliased.Status == 200, $"{aliased.Status} {aliased.Body}");
        var changed = await Revision(second, api, admin);
        var firstBefore = await Revision(first, api, admin);
        await page.Locator("#reason").FillAsync("both second releases misbehave");
        var refused = await page.RunAndWaitForResponseAsync(() => page.Locator("form.confirm button[type=submit]").ClickAsync(),
            response => response.Request.Method == "POST");
        Assert.Equal(412, refused.Status);
        Assert.Contains("1 of 2 models were not rolled back", await page.Locator("p.problem").InnerTextAsync());
        Assert.Contains("Stale revision", await page.Locator("li.refused", new() { HasText = second }).InnerTextAsync());
        await Assertions.Expect(page.Locator("li.rolled-back", new() { HasText = first })).ToHaveCountAsync(1);
        Assert.Equal(changed, await Revision(second, api, admin));
        Assert.True(await Revision(first, api, admin) > firstBefore);

        // The plan as it is now holds the second model only; confirmed, the browser lands on the page's confirmation.
        await Assertions.Expect(page.Locator("form.confirm input[name=model]")).ToHaveCountAsync(1);
        Assert.Equal(second, await page.Locator("form.confirm input[name=model]").GetAttributeAsync("value"));
        await page.Locator("#reason").FillAsync("both second releases misbehave");
        await page.Locator("form.confirm button[type=submit]").ClickAsync();
        await Reached(page, new Regex("done=1"));
        Assert.Contains("1 model(s) rolled back", await page.Locator("p.done").InnerTextAsync());
        var history = await Call(HttpMethod.Get, $"{api}/models/{second}/history", key: admin);
        var performed = history.Body!["items"]!.AsArray().Single(e => e!["type"]!.GetValue<string>() == "RollbackPerformed")!;
        Assert.Equal("both second releases misbehave", performed["reason"]!.GetValue<string>());

        // A reader of the workspace: no link, and the page refuses (403) without a form.
        await page.Locator("form.signout button[type=submit]").ClickAsync();
        await Reached(page, new Regex("/console/signin"));
        page = await SignIn(reader.Body!["key"]!.GetValue<string>());
        Assert.Equal(0, await page.Locator("p.rollback-link").CountAsync());
        var forbidden = await page.GotoAsync($"/console/workspaces/{ws}/rollback?asOf={Uri.EscapeDataString(instant)}");
        Assert.Equal(403, forbidden!.Status);
        Assert.Equal(0, await page.Locator("main form, table.plan").CountAsync());
    }
}
