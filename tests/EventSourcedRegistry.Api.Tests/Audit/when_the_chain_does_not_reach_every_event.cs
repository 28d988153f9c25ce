using EventSourcedRegistry.Store;
using System.Text.Json;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Api.Audit;
using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Audit;

/// <summary>
/// Issue 13, item 2(b): the chain must never stall silently. On main, an event the chain projection could not hash
/// stopped it for good while <c>verify</c> kept answering <c>verified: true</c> over the events before it, and nothing
/// else showed it. Now a chain that does not reach every event the store held is <c>incomplete</c> (never verified),
/// the first event it does not reach is named with the reason, <c>/health/audit</c> reports the stall, and no
/// checkpoint is signed over it.
/// </summary>
public sealed class when_the_chain_does_not_reach_every_event(AppFixture app) : ApiTest(app)
{
    /// <summary>A store written before the door refused such numbers: the chain now gets past it, deterministically.</summary>
    [Fact]
    public async Task an_event_holding_1e400_stored_before_the_fix_is_chained_and_verifies()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        // What the old API accepted and stored: {"x": 1e400} in a version's metadata (jsonb keeps it as 401 digits).
        await AppendRaw("churn", id => new ModelVersionMetadataEdited(id, 1, null, new Dictionary<string, string>(), [],
            JsonDocument.Parse("""{"x": 1e400, "y": -12.5e400}""").RootElement));
        await Host.RegisterVersion("churn");
        await Store.WaitForAuditTrail();

        var sequences = await App.Sequences();
        var verdict = await Host.Get("/api/v1/audit/verify?full=true");

        Assert.True(verdict.Body!["verified"]!.GetValue<bool>(), verdict.Body.ToJsonString());
        Assert.Equal(sequences.Count, verdict.Body["events"]!.GetValue<long>());
        Assert.Equal(sequences[^1], verdict.Body["headSequence"]!.GetValue<long>());
        Assert.Equal(201, (await Host.Post("/api/v1/audit/checkpoints", null)).Status);
        Assert.Equal(200, (await Host.Get("/health/audit")).Status);
    }

    [Fact]
    public async Task a_chain_stopped_by_an_event_it_cannot_hash_is_incomplete_names_it_is_unhealthy_and_is_not_signed()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Store.WaitForAuditTrail();
        var chained = await App.Sequences();
        // Nesting deeper than the canonical form reads (256 levels): only a database administrator can store it, but
        // then the chain projection cannot pass it.
        var deep = new string('[', 300) + new string(']', 300);
        await App.Sql($$"""
            begin;
            create temp table forged on commit drop as select * from registry.mt_events where seq_id = {{chained[^1]}};
            update forged set seq_id = nextval('registry.mt_events_sequence_default'), id = gen_random_uuid(), version = version + 1,
                              data = jsonb_set(data, '{metadata}', '{{deep}}'::jsonb);
            insert into registry.mt_events select * from forged;
            commit;
            """);
        var blocked = (await App.Sequences())[^1];

        try
        {
            var verdict = (await Host.Get("/api/v1/audit/verify?full=true")).Body!;
            var health = await Host.Get("/health/audit");
            var ready = await Host.Get("/health/ready");
            var signing = await Host.Post("/api/v1/audit/checkpoints", null);

            Assert.False(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
            Assert.Equal("incomplete", verdict["state"]!.GetValue<string>());
            Assert.Equal(blocked, verdict["firstUnchainedSequence"]!.GetValue<long>());
            Assert.Equal(chained[^1], verdict["headSequence"]!.GetValue<long>());
            Assert.Equal(blocked, verdict["storeHeadSequence"]!.GetValue<long>());
            Assert.Contains($"cannot pass event {blocked}", verdict["problem"]!.GetValue<string>());
            Assert.Contains("depth", verdict["problem"]!.GetValue<string>());
            Assert.Equal(503, health.Status);
            Assert.Equal("Degraded", health.Body!.GetValue<string>());
            Assert.Equal(200, ready.Status);
            signing.AssertProblem(409);
            Assert.Contains("incomplete", signing.Body!["title"]!.GetValue<string>());
            Assert.Empty((await Host.Get("/api/v1/audit/checkpoints")).Body!["items"]!.AsArray());
        }
        finally
        {
            // Leave a chain the next test's reset can restart.
            await App.Sql("delete from registry.mt_events where seq_id = $1", blocked);
        }
    }

    /// <summary>The chain projection is held up (here: its table locked, as a stuck daemon would leave it): verify says so instead of verifying less.</summary>
    [Fact]
    public async Task a_chain_that_lags_the_store_is_incomplete_and_after_a_while_unhealthy_until_it_catches_up()
    {
        await Host.RegisterModel("churn");
        await Store.WaitForAuditTrail();
        await using (var blocker = new NpgsqlConnection(App.ConnectionString))
        {
            await blocker.OpenAsync();
            await using var hold = await blocker.BeginTransactionAsync();
            // Reads go on; the projection's inserts wait for the lock.
            await using (var command = new NpgsqlCommand("lock table registry.audit_chain in exclusive mode", blocker, hold))
                await command.ExecuteNonQueryAsync();

            await Host.RegisterVersion("churn");
            await Host.RegisterVersion("churn");
            var sequences = await App.Sequences();

            var lagging = await Host.Verify();
            var health = await Host.Get("/health/audit");
            var waitedLong = await new AuditChainHealthCheck(Store, new AuditOptions { StallAfter = TimeSpan.FromMilliseconds(1) },
                    Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditChainHealthCheck>.Instance)
                .CheckHealthAsync(new HealthCheckContext());
            await hold.RollbackAsync();

            Assert.False(lagging["verified"]!.GetValue<bool>(), lagging.ToJsonString());
            Assert.Equal("incomplete", lagging["state"]!.GetValue<string>());
            Assert.Equal(sequences[1], lagging["firstUnchainedSequence"]!.GetValue<long>());
            Assert.Equal(sequences[0], lagging["headSequence"]!.GetValue<long>());
            Assert.Equal(sequences[^1], lagging["storeHeadSequence"]!.GetValue<long>());
            Assert.Contains("not chained yet", lagging["problem"]!.GetValue<string>());
            Assert.Equal(200, health.Status);
            Assert.Equal(HealthStatus.Degraded, waitedLong.Status);
            Assert.Contains("stalled", waitedLong.Description);
        }

        await Store.WaitForAuditTrail();
        var caughtUp = await Host.Verify();
        Assert.True(caughtUp["verified"]!.GetValue<bool>(), caughtUp.ToJsonString());
        Assert.Equal(200, (await Host.Get("/health/audit")).Status);
    }

    [Fact]
    public async Task the_audit_health_check_is_anonymous_and_says_no_more_than_its_status()
    {
        await Host.RegisterModel("churn");
        await Store.WaitForAuditTrail();

        var response = await Host.AnonymousClient().GetAsync("/health/audit");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    private async Task AppendRaw(string model, Func<Guid, object> @event)
    {
        await using var session = Store.LightweightSession(WorkspaceId.Default.TenantId);
        var id = (await session.LoadAsync<ModelNameIndex>(model))!.ModelId;
        session.Events.Append(id, @event(id));
        await session.SaveChangesAsync();
    }
}
