using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Audit;

/// <summary>
/// Issue 13, item 8: <c>/audit/verify</c> starts from the newest signed checkpoint by default (its signature and the
/// stored link it signed are checked, then every later link is recomputed); <c>full=true</c> recomputes everything.
/// The answer says which it did, from which sequence, so it never claims more than it checked.
/// </summary>
public sealed class when_verifying_incrementally(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task the_default_check_starts_at_the_newest_checkpoint_and_says_so()
    {
        var checkpoint = await HistoryWithCheckpoint();
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        await Store.WaitForAuditTrail();
        var sequences = await App.Sequences();

        var incremental = await Host.Verify();
        var full = await VerifyFull();

        Assert.Equal(("verified", "incremental", checkpoint, 2L, 1), (State(incremental), Mode(incremental), From(incremental), Events(incremental), Checkpoints(incremental)));
        Assert.Equal(("verified", "full", 0L, (long)sequences.Count, 1), (State(full), Mode(full), From(full), Events(full), Checkpoints(full)));
        Assert.Equal(sequences[^1], incremental["headSequence"]!.GetValue<long>());
        Assert.Equal(full["head"]!.GetValue<string>(), incremental["head"]!.GetValue<string>());
    }

    [Fact]
    public async Task without_a_checkpoint_the_default_check_is_full()
    {
        await Host.RegisterModel("churn");
        await Store.WaitForAuditTrail();

        var verdict = await Host.Verify();

        Assert.Equal(("verified", "full", 0L, 1L), (State(verdict), Mode(verdict), From(verdict), Events(verdict)));
    }

    /// <summary>What docs/auditing.md says the incremental mode cannot see, shown: an edit before the checkpoint needs <c>full=true</c>.</summary>
    [Fact]
    public async Task an_edit_before_the_checkpoint_is_found_by_a_full_check_only_and_the_incremental_answer_says_where_it_started()
    {
        var checkpoint = await HistoryWithCheckpoint();
        var sequences = await App.Sequences();
        await App.Sql("update registry.mt_events set data = jsonb_set(data, '{description}', '\"tampered\"') where seq_id = $1", sequences[0]);

        var incremental = await Host.Verify();
        var full = await VerifyFull();

        Assert.Equal(("verified", checkpoint, 0L), (State(incremental), From(incremental), Events(incremental)));
        Assert.Equal("broken", State(full));
        Assert.Equal(sequences[0], full["firstBrokenSequence"]!.GetValue<long>());
    }

    [Fact]
    public async Task an_edit_after_the_checkpoint_breaks_the_incremental_check()
    {
        await HistoryWithCheckpoint();
        await Host.RegisterVersion("churn");
        await Store.WaitForAuditTrail();
        var target = (await App.Sequences())[^1];
        await App.Sql("update registry.mt_events set user_name = 'someone-else' where seq_id = $1", target);

        var verdict = await Host.Verify();

        Assert.Equal(("broken", "incremental"), (State(verdict), Mode(verdict)));
        Assert.Equal(target, verdict["firstBrokenSequence"]!.GetValue<long>());
    }

    [Fact]
    public async Task a_starting_checkpoint_whose_signature_no_longer_verifies_is_reported_not_trusted()
    {
        var checkpoint = await HistoryWithCheckpoint();
        await App.Sql("update registry.mt_doc_auditcheckpoint set data = jsonb_set(data, '{signature}', '\"MEUCIQ==\"') where id = $1", checkpoint);

        var verdict = await Host.Verify();

        Assert.Equal("broken", State(verdict));
        Assert.Equal(checkpoint, verdict["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("invalid signature", verdict["problem"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_starting_checkpoint_whose_link_was_removed_is_reported()
    {
        var checkpoint = await HistoryWithCheckpoint();
        await App.Sql("delete from registry.audit_chain where seq_id = $1", checkpoint);

        var verdict = await Host.Verify();

        Assert.Equal("broken", State(verdict));
        Assert.Equal(checkpoint, verdict["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("no link there any more", verdict["problem"]!.GetValue<string>());
    }

    [Fact]
    public async Task an_outside_checkpoint_is_compared_by_an_incremental_check_that_starts_below_it()
    {
        var first = await HistoryWithCheckpoint();
        var firstHead = (await Host.Verify())["head"]!.GetValue<string>();
        await Host.RegisterVersion("churn");
        await Store.WaitForAuditTrail();
        Assert.Equal(201, (await Host.Post("/api/v1/audit/checkpoints", null)).Status);

        var matching = (await Host.Get($"/api/v1/audit/verify?sequence={first}&head={firstHead}")).Body!;
        var forged = (await Host.Get($"/api/v1/audit/verify?sequence={first}&head={new string('0', 64)}")).Body!;

        Assert.Equal(("verified", "full", 0L), (State(matching), Mode(matching), From(matching)));
        Assert.Equal("broken", State(forged));
        Assert.Equal(first, forged["firstBrokenSequence"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("1")]
    [InlineData("true,false")]
    public async Task full_is_true_or_false(string value)
    {
        var response = await Host.Get($"/api/v1/audit/verify?full={Uri.EscapeDataString(value)}");

        response.AssertProblem(400, "full");
    }

    [Fact]
    public async Task only_auditors_verify_and_a_grant_on_one_model_is_not_enough()
    {
        await Host.RegisterModel("churn");
        using var reader = await Host.ClientWithRoles("reader");
        using var scoped = await Host.ClientWithRoles("contributor:churn", "reader:churn");

        (await reader.Send(HttpMethod.Get, "/api/v1/audit/verify?full=true")).AssertProblem(403);
        var refused = (await scoped.Send(HttpMethod.Get, "/api/v1/audit/verify?full=true")).AssertProblem(403);
        (await Host.AnonymousClient().Send(HttpMethod.Get, "/api/v1/audit/verify?full=true")).AssertProblem(401);
        Assert.DoesNotContain("head", refused.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Model churn with a version and a promotion, chained, and a checkpoint signed at the head: its sequence.</summary>
    private async Task<long> HistoryWithCheckpoint()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production", reason: "first release");
        await Store.WaitForAuditTrail();
        var created = await Host.Post("/api/v1/audit/checkpoints", null);
        Assert.True(created.Status == 201, created.Body?.ToJsonString());
        return created.Body!["sequence"]!.GetValue<long>();
    }

    private async Task<JsonNode> VerifyFull()
    {
        var response = await Host.Get("/api/v1/audit/verify?full=true");
        Assert.True(response.Status == 200, response.Body?.ToJsonString());
        return response.Body!;
    }

    private static string State(JsonNode verdict) => verdict["state"]!.GetValue<string>();
    private static string Mode(JsonNode verdict) => verdict["mode"]!.GetValue<string>();
    private static long From(JsonNode verdict) => verdict["fromSequence"]!.GetValue<long>();
    private static long Events(JsonNode verdict) => verdict["events"]!.GetValue<long>();
    private static int Checkpoints(JsonNode verdict) => verdict["checkpoints"]!.GetValue<int>();
}
