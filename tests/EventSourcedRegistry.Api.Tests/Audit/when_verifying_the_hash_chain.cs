using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Audit;

public sealed class when_verifying_the_hash_chain(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task an_untouched_store_verifies_with_every_event_chained()
    {
        await SomeHistory();

        var verdict = await Host.Verify();

        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
        var sequences = await App.Sequences();
        Assert.Equal(sequences.Count, verdict["events"]!.GetValue<long>());
        Assert.Equal(sequences[^1], verdict["headSequence"]!.GetValue<long>());
        Assert.Matches("^[0-9a-f]{64}$", verdict["head"]!.GetValue<string>());
        Assert.Null(verdict["firstBrokenSequence"]);
        Assert.Equal(sequences, await App.SqlList<long>("select seq_id from registry.audit_chain order by seq_id"));
    }

    [Fact]
    public async Task changing_one_events_data_in_postgresql_is_reported_at_exactly_that_sequence()
    {
        var sequences = await SomeHistory();
        var target = sequences[3];

        await App.Sql("update registry.mt_events set data = jsonb_set(data, '{description}', '\"tampered\"') where seq_id = $1", target);
        var verdict = await Host.Verify();

        Assert.False(verdict["verified"]!.GetValue<bool>());
        Assert.Equal(target, verdict["firstBrokenSequence"]!.GetValue<long>());
        Assert.Equal(3, verdict["events"]!.GetValue<long>());
        Assert.Contains($"Event {target} differs", verdict["problem"]!.GetValue<string>());
    }

    [Fact]
    public async Task changing_an_events_metadata_is_detected_too()
    {
        var sequences = await SomeHistory();

        await App.Sql("update registry.mt_events set user_name = 'someone-else' where seq_id = $1", sequences[1]);

        Assert.Equal(sequences[1], (await Host.Verify())["firstBrokenSequence"]!.GetValue<long>());
    }

    [Fact]
    public async Task deleting_an_event_row_is_reported_at_its_sequence()
    {
        var sequences = await SomeHistory();
        var target = sequences[2];

        await App.Sql("delete from registry.mt_events where seq_id = $1", target);
        var verdict = await Host.Verify();

        Assert.False(verdict["verified"]!.GetValue<bool>());
        Assert.Equal(target, verdict["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("deleted", verdict["problem"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_sequence_gap_left_by_a_rolled_back_append_is_not_tampering()
    {
        await Host.RegisterModel("gappy");
        // Sequence numbers taken by appends that rolled back are never reused: a permanent gap.
        await App.Sql("select nextval('registry.mt_events_sequence_default') from generate_series(1, 3)");
        await Host.RegisterVersion("gappy");
        await Host.RegisterVersion("gappy");
        await Store.WaitForAuditTrail();

        var sequences = await App.Sequences();
        Assert.Equal(sequences[0] + 4, sequences[1]);
        var verdict = await Host.Verify();

        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
        Assert.Equal(3, verdict["events"]!.GetValue<long>());
        Assert.Equal(sequences, await App.SqlList<long>("select seq_id from registry.audit_chain order by seq_id"));
        Assert.Equal(3, (await Host.Audit()).Items().Count);
    }

    [Fact]
    public async Task an_event_forged_into_a_gap_behind_the_chain_is_reported()
    {
        await Host.RegisterModel("gappy");
        await App.Sql("select nextval('registry.mt_events_sequence_default') from generate_series(1, 3)");
        await Host.RegisterVersion("gappy");
        await Store.WaitForAuditTrail();
        var sequences = await App.Sequences();
        var gap = sequences[0] + 2;

        // A copy of a real event, slipped into a sequence number the chain has already passed.
        await App.Sql($"""
            begin;
            create temp table forged on commit drop as select * from registry.mt_events where seq_id = {sequences[1]};
            update forged set seq_id = {gap}, id = gen_random_uuid(), version = version + 100;
            insert into registry.mt_events select * from forged;
            commit;
            """);
        var verdict = await Host.Verify();

        Assert.False(verdict["verified"]!.GetValue<bool>());
        Assert.Equal(gap, verdict["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("not in the chain", verdict["problem"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("?sequence=abc&head=00", "sequence")]
    [InlineData("?sequence=3", "head")]
    public async Task an_outside_checkpoint_needs_a_sequence_and_a_64_digit_head(string query, string field)
    {
        var response = await Host.Get("/api/v1/audit/verify" + query);

        Assert.Equal(400, response.Status);
        Assert.NotNull(response.Body!["errors"]![field]);
    }

    private async Task<List<long>> SomeHistory()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 2, "Production", reason: "better recall");
        await Host.Post("/api/v1/models", new { name = "fraud", description = "card fraud" });
        await Host.RegisterVersion("fraud");
        await Store.WaitForAuditTrail();
        var sequences = await App.Sequences();
        Assert.Equal(6, sequences.Count);
        return sequences;
    }
}
