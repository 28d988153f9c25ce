using EventSourcedRegistry.Store;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using Marten;
using Marten.Exceptions;

namespace EventSourcedRegistry.Api.Tests.Events;

/// <summary>
/// Marten fills the sequences of a failed append with placeholder ("tombstone") events, from a background loop, in a
/// transaction that commits after the chain may have passed the gap; they were stamped -infinity, and after a crash of
/// PostgreSQL the event sequence could restart below them: the crash suite met a 500 (duplicate key on the event table)
/// after a postmaster restart, a 500 from the audit chain's verify (cannot subtract infinite timestamps), and a chain
/// that had skipped a placeholder. The registry does not store them (EventGaps); a store written before that keeps its own.
/// </summary>
public sealed class when_the_event_sequence_has_gaps(AppFixture app) : ApiTest(app)
{
    private const string Sequence = "registry.mt_events_sequence_default";

    [Fact]
    public async Task a_command_after_the_sequence_fell_behind_the_events_is_applied_once()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 4; i++) await Host.RegisterVersion("churn");
        var before = await Store.TotalEvents();
        await ThrowSequenceBack(3);

        await Host.RegisterVersionWith("churn").Ok(201);

        Assert.Equal(before + 1, await Store.TotalEvents());
        var versions = (await Host.Get("/api/v1/models/churn/versions").Ok()).Body!["items"]!.AsArray();
        Assert.Equal([1, 2, 3, 4, 5], versions.Select(v => v!["version"]!.GetValue<int>()).Order());
        Assert.Equal(await App.Sequences(), (await App.Sequences()).Distinct());
    }

    [Fact]
    public async Task registering_a_model_after_the_sequence_fell_behind_is_refused_for_a_retry_not_called_a_taken_name()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 3; i++) await Host.RegisterVersion("churn");
        var before = await Store.TotalEvents();
        await ThrowSequenceBack(2);

        var first = await Host.Post("/api/v1/models", new { name = "fraud" });
        var answers = new List<int> { first.Status };
        // Each refused append draws one value: at most as many refusals as the sequence was behind, then success.
        var response = first;
        for (var retry = 0; response.Status == 503 && retry < 5; retry++)
        {
            Assert.NotNull(response.Header("Retry-After"));
            response = await Host.Post("/api/v1/models", new { name = "fraud" });
            answers.Add(response.Status);
        }

        Assert.Equal(201, response.Status);
        Assert.All(answers.SkipLast(1), status => Assert.Equal(503, status));
        Assert.Equal(before + 1, await Store.TotalEvents());
        Assert.Equal("fraud", (await Host.Model("fraud"))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_failed_append_leaves_a_gap_that_no_placeholder_fills_and_the_chain_verifies()
    {
        await Host.RegisterModel("churn");
        var top = (await App.Sequences()).Max();
        // Marten's placeholders go with a row for its placeholder stream, in their own transaction: its return shows that
        // Marten's background write has committed.
        await App.Sql("delete from registry.mt_streams where tenant_id = $1 and id = $2", WorkspaceId.Default.TenantId, PlaceholderStream);

        // An append whose events reached the event table, then failed on a later statement of the same commit
        // (a document that already exists): Marten writes placeholders at the sequences the events had drawn.
        await FailAnAppendOn("churn");
        Assert.True(await Eventually(async () => (await App.SqlList<long>(
            "select count(*) from registry.mt_streams where tenant_id = $1 and id = $2", WorkspaceId.Default.TenantId, PlaceholderStream))[0] == 1),
            "Marten never wrote its placeholders");

        Assert.Equal(top, (await App.Sequences()).Max());
        await Host.RegisterVersionWith("churn").Ok(201);
        var next = (await App.Sequences()).Max();
        Assert.True(next > top + 1, $"the failed append drew no sequence (next event at {next}, the one before at {top})");
        await Store.WaitForAuditTrail();
        var verify = await Host.Verify();
        Assert.Equal("verified", verify["state"]!.GetValue<string>());
        Assert.Equal((await App.Sequences()).Count, verify["events"]!.GetValue<long>());
        // The failed append left no trace in the model.
        Assert.Null((await Host.Model("churn"))["description"]);
    }

    [Fact]
    public async Task a_placeholder_that_comes_after_the_chain_passed_its_gap_is_not_stored_and_the_chain_still_verifies()
    {
        // What the two-node crash suite met: a number drawn by a transaction that ended without committing is a gap the
        // chain passes; Marten's placeholder for it, written later by its retry loop, landed below the chain's head, and
        // verify reported an event in the store that the chain had skipped.
        await Host.RegisterModel("churn");
        var drawn = (await App.SqlList<long>($"select nextval('{Sequence}')")).Single();
        await Host.RegisterVersionWith("churn").Ok(201);
        await Store.WaitForAuditTrail();
        Assert.Equal("verified", (await Host.Verify())["state"]!.GetValue<string>());

        var inserted = await App.Sql(
            "insert into registry.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id) " +
            "values ($1, gen_random_uuid(), $2, $1, '{}'::jsonb, 'tombstone', '-infinity', $3)", drawn, PlaceholderStream, WorkspaceId.Default.TenantId);

        var verify = await Host.Verify();
        Assert.True(verify["state"]!.GetValue<string>() == "verified", verify.ToJsonString());
        Assert.Equal(0, inserted);
        Assert.DoesNotContain(drawn, await App.Sequences());
        Assert.Equal((await App.Sequences()).Count, verify["events"]!.GetValue<long>());
    }

    [Fact]
    public async Task a_placeholder_stamped_minus_infinity_by_an_older_store_changes_no_answer_by_instant()
    {
        await Host.RegisterModel("churn");
        var registered = (await Store.EventsOf("churn")).Single().Timestamp;
        var top = (await App.Sequences()).Max();

        // As a store written before the guard holds them: placeholders stamped -infinity, after the model's events.
        await App.Sql("alter table registry.mt_events disable trigger esr_event_gaps");
        try
        {
            await FailAnAppendOn("churn");
            var legacy = await App.SqlList<long>(
                "select count(*) from registry.mt_events where type = 'tombstone' and seq_id > $1 and not isfinite(timestamp)", top);
            for (var attempt = 0; attempt < 100 && legacy[0] == 0; attempt++)
            {
                await Task.Delay(100);
                legacy = await App.SqlList<long>(
                    "select count(*) from registry.mt_events where type = 'tombstone' and seq_id > $1 and not isfinite(timestamp)", top);
            }
            Assert.True(legacy[0] > 0, "Marten wrote no placeholder");
        }
        finally
        {
            await App.Sql("alter table registry.mt_events enable trigger esr_event_gaps");
        }

        // The audit chain's probes read the ages of unchained events, whatever their stamp.
        Assert.Equal(200, (await Host.Get("/health/audit")).Status);
        await Store.WaitForAuditTrail();
        Assert.Equal("verified", (await Host.Verify())["state"]!.GetValue<string>());
        // Before the model was registered, it did not exist: the placeholder's -infinity does not pull later events in.
        var before = await Host.Get($"/api/v1/models/churn?asOf={Uri.EscapeDataString(registered.AddMilliseconds(-1).ToString("O"))}");
        Assert.Equal(404, before.Status);
        var after = await Host.Get($"/api/v1/models/churn?asOf={Uri.EscapeDataString(registered.AddMilliseconds(1).ToString("O"))}");
        Assert.Equal(200, after.Status);
    }

    /// <summary>An append to the model that reaches the event table, then fails on a later statement of its commit.</summary>
    private async Task FailAnAppendOn(string model)
    {
        var id = await Store.ModelId(model);
        await using var session = Store.LightweightSession(WorkspaceId.Default.TenantId);
        session.Events.Append(id, new ModelMetadataEdited(id, "edited", new Dictionary<string, string>(), []));
        session.Insert(new ModelNameIndex { Id = model, ModelId = id });
        await Assert.ThrowsAnyAsync<Exception>(() => session.SaveChangesAsync());
    }

    private async Task ThrowSequenceBack(int by)
    {
        var top = (await App.Sequences()).Max();
        await App.SqlList<long>($"select setval('{Sequence}', {top - by})");
    }

    /// <summary>Marten's stream for its placeholders (JasperFx.Events' <c>Tombstone.StreamId</c>).</summary>
    private static readonly Guid PlaceholderStream = JasperFx.Events.Tombstone.StreamId;

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return false;
    }
}
