using EventSourcedRegistry.Store;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Audit;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Audit;

public sealed class when_querying_the_audit_log(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task each_event_gets_a_row_with_actor_reason_correlation_and_a_summary()
    {
        await Host.Post("/api/v1/models", new { name = "churn" }, new Dictionary<string, string> { ["X-Correlation-Id"] = "corr-register" });
        await Host.RegisterVersion("churn");
        var promoted = await Host.Promote("churn", 1, "Production", reason: "beats the baseline on AUC",
            headers: new Dictionary<string, string> { ["X-Correlation-Id"] = "corr-promote" });
        Assert.Equal(200, promoted.Status);
        await Host.Post("/api/v1/models/churn/archive", new { reason = "superseded by churn-v2" });
        await Store.WaitForAuditTrail();

        var page = await Host.Audit();
        var items = page.Items();

        Assert.Equal(["ModelRegistered", "ModelVersionRegistered", "ModelVersionStageTransitioned", "ModelArchived"],
            items.Select(i => i["eventType"]!.GetValue<string>()));
        Assert.All(items, i => Assert.Equal(AppFixture.AdminActor, i["actor"]!.GetValue<string>()));
        Assert.All(items, i => Assert.Equal("churn", i["modelName"]!.GetValue<string>()));
        Assert.All(items, i => Assert.False(string.IsNullOrEmpty(i["causationId"]?.GetValue<string>())));
        Assert.Equal("corr-register", items[0]["correlationId"]!.GetValue<string>());
        Assert.Equal("model \"churn\" registered", items[0]["summary"]!.GetValue<string>());

        var promotion = items[2];
        Assert.Equal(1, promotion["version"]!.GetValue<int>());
        Assert.Equal("beats the baseline on AUC", promotion["reason"]!.GetValue<string>());
        Assert.Equal("corr-promote", promotion["correlationId"]!.GetValue<string>());
        Assert.Equal("version 1: None → Production", promotion["summary"]!.GetValue<string>());

        Assert.Equal("superseded by churn-v2", items[3]["reason"]!.GetValue<string>());
        Assert.Null(items[3]["version"]);

        var sequences = await App.Sequences();
        Assert.Equal(sequences, items.Select(i => i["sequence"]!.GetValue<long>()));
        Assert.Equal(sequences[^1], page["completeThrough"]!.GetValue<long>());
        Assert.Equal(0, page["lag"]!.GetValue<long>());
        Assert.Null(page["nextCursor"]);
    }

    [Fact]
    public async Task filters_by_actor_model_type_and_range_and_say_how_far_the_log_is_complete()
    {
        await Append("fraud", "alice");
        await Append("churn", "bob");
        await Append("ranker", "alice");
        await Store.WaitForAuditTrail();
        var all = (await Host.Audit()).Items();
        Assert.Equal(9, all.Count);

        var alice = (await Host.Audit("?actor=alice")).Items();
        Assert.Equal(6, alice.Count);
        Assert.All(alice, i => Assert.Equal("alice", i["actor"]!.GetValue<string>()));

        var churn = (await Host.Audit("?model=CHURN")).Items();
        Assert.Equal(3, churn.Count);
        Assert.All(churn, i => Assert.Equal("churn", i["modelName"]!.GetValue<string>()));

        var registrations = (await Host.Audit("?type=ModelRegistered&actor=alice")).Items();
        Assert.Equal(["fraud", "ranker"], registrations.Select(i => i["modelName"]!.GetValue<string>()));
        var twoTypes = (await Host.Audit("?type=ModelRegistered,ModelVersionRegistered")).Items();
        Assert.Equal(6, twoTypes.Count);

        var bySequence = (await Host.Audit($"?from={Seq(all[2])}&to={Seq(all[5])}")).Items();
        Assert.Equal(all.Skip(2).Take(4).Select(Seq), bySequence.Select(Seq));

        // Each model's events were appended in one transaction, so they share its timestamp.
        var churnTime = all[3]["timestamp"]!.GetValue<DateTimeOffset>();
        var byTime = (await Host.Audit($"?from={Uri.EscapeDataString(churnTime.ToString("O"))}&to={Uri.EscapeDataString(churnTime.ToString("O"))}")).Items();
        Assert.Equal(churn.Select(Seq), byTime.Select(Seq));

        var response = await Host.Get("/api/v1/audit?actor=nobody");
        Assert.Empty(response.Body!.Items());
        Assert.Equal(Seq(all[^1]).ToString(), response.Header("X-Audit-Complete-Through"));
        Assert.Equal(Seq(all[^1]).ToString(), response.Header("X-Audit-High-Water-Mark"));
    }

    [Fact]
    public async Task a_model_is_found_under_every_name_it_has_carried()
    {
        await Host.RegisterModel("forecast");
        await Host.RegisterVersion("forecast");
        var renamed = await Host.Post("/api/v1/models/forecast/rename", new { newName = "demand-forecast" });
        Assert.Equal(200, renamed.Status);
        await Host.RegisterVersion("demand-forecast");
        await Host.RegisterModel("other");
        await Store.WaitForAuditTrail();

        var byOldName = (await Host.Audit("?model=forecast")).Items();
        var byNewName = (await Host.Audit("?model=demand-forecast")).Items();

        Assert.Equal(4, byOldName.Count);
        Assert.Equal(byOldName.Select(Seq), byNewName.Select(Seq));
        Assert.Equal(["forecast", "forecast", "demand-forecast", "demand-forecast"], byOldName.Select(i => i["modelName"]!.GetValue<string>()));
        Assert.Equal("renamed \"forecast\" → \"demand-forecast\"", byOldName[2]["summary"]!.GetValue<string>());
        Assert.Equal(404, (await Host.Get("/api/v1/audit?model=never-existed")).Status);
    }

    [Fact]
    public async Task keyset_paging_visits_every_row_once_in_sequence_order()
    {
        await Host.RegisterModel("pager");
        for (var i = 0; i < 6; i++) await Host.RegisterVersion("pager");
        await Store.WaitForAuditTrail();

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Host.Audit("?limit=3" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(page.Items().Select(Seq));
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        } while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(await App.Sequences(), seen);
    }

    [Fact]
    public async Task the_lag_counts_the_events_the_log_has_not_reached_while_its_worker_is_held()
    {
        await Append("fraud", "alice");
        await Store.WaitForAuditTrail();
        var through = (await App.Sequences())[^1];

        // Hold the workspace's high-water mark and both audit rows: the worker waits on them, and neither the log nor the
        // mark moves. Before the lag was counted from the last event, it read 0 here (the mark had not moved either).
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var hold = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(
                         $"select name from {AuditTrail.ProgressionTable} where name = any($1) for update", connection, hold))
        {
            var tenant = WorkspaceId.Default;
            command.Parameters.Add(new NpgsqlParameter
            {
                Value = new[]
                {
                    AuditProgress.HighWaterMarkOf(tenant), AuditProgress.Shard(AuditTrail.AuditLogProjectionName, tenant),
                    AuditProgress.Shard(AuditTrail.HashChainProjectionName, tenant),
                },
            });
            await command.ExecuteNonQueryAsync();
        }
        await Append("churn", "bob");
        var last = (await App.Sequences())[^1];
        Assert.Equal(through + 3, last);

        var page = await Host.Audit();
        Assert.Equal(through, page["completeThrough"]!.GetValue<long>());
        Assert.Equal(3, page["lag"]!.GetValue<long>());
        Assert.DoesNotContain(page.Items(), i => Seq(i) > through);
        var status = (await Host.Get("/api/v1/admin/projections").Ok()).Body!;
        Assert.Equal(last, status["lastEvent"]!.GetValue<long>());
        foreach (var projection in status["projections"]!.AsArray())
            Assert.Equal(projection!["lifecycle"]!.GetValue<string>() == "Async" ? 3 : 0, projection["lag"]!.GetValue<long>());

        await hold.RollbackAsync();
        await Store.WaitForAuditTrail();
        page = await Host.Audit();
        Assert.Equal(last, page["completeThrough"]!.GetValue<long>());
        Assert.Equal(0, page["lag"]!.GetValue<long>());
        status = (await Host.Get("/api/v1/admin/projections").Ok()).Body!;
        Assert.All(status["projections"]!.AsArray(), p => Assert.Equal(0, p!["lag"]!.GetValue<long>()));
    }

    [Theory]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?to=2026-03-03T14:00:00", "to")]
    [InlineData("?type=ModelExploded", "type")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?cursor=abc", "cursor")]
    [InlineData("?format=xml", "format")]
    public async Task an_invalid_filter_is_refused_with_400_naming_it(string query, string field)
    {
        var response = await Host.Get("/api/v1/audit" + query);

        Assert.Equal(400, response.Status);
        Assert.NotNull(response.Body!["errors"]![field]);
    }

    private async Task Append(string name, string actor)
    {
        await using var session = Store.LightweightSession(WorkspaceId.Default.TenantId);
        session.LastModifiedBy = actor;
        var id = Guid.NewGuid();
        var artifact = new ArtifactReference($"s3://models/{name}/1.onnx", RegistryCalls.Sha256A, 1);
        session.Events.StartStream(id,
            new ModelRegistered(id, name, null, new Dictionary<string, string>()),
            new ModelVersionRegistered(id, 1, "None", artifact, null, new Dictionary<string, string>(), new Dictionary<string, double>(),
                new Dictionary<string, string>(), null, null),
            new ModelVersionStageTransitioned(id, 1, "None", "Staging", null));
        await session.SaveChangesAsync();
    }

    private static long Seq(JsonNode item) => item["sequence"]!.GetValue<long>();
}
