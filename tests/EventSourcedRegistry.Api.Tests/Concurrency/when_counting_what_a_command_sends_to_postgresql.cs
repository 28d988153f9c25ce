using System.Collections.Concurrent;
using System.Diagnostics;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Api.Webhooks;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace EventSourcedRegistry.Api.Tests.Concurrency;

/// <summary>
/// Issue 17: what one command costs PostgreSQL. Npgsql traces every command or batch it sends (one span per round trip,
/// its SQL in <c>db.statement</c>); the request carries a trace id of the test's own, so only the spans of that request
/// are counted, not the background work's. The transaction's COMMIT is not a span: it is one more round trip after these.
/// Counted on stream versions that write no model-view snapshot (every <see cref="AppFixture.SnapshotEvery"/> events here).
/// </summary>
public sealed class when_counting_what_a_command_sends_to_postgresql(AppFixture app, ITestOutputHelper output) : ApiTest(app), IDisposable
{
    private readonly ConcurrentQueue<(ActivityTraceId Trace, string Sql)> _sent = new();
    private ActivityListener? _listener;

    private ActivityListener Listen()
    {
        // ASP.NET Core starts the request's span (parented on the traceparent header) only when someone listens to it.
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == "Npgsql")
                    _sent.Enqueue((activity.TraceId, activity.GetTagItem("db.statement") as string ?? activity.GetTagItem("db.query.text") as string ?? ""));
            },
        };
        ActivitySource.AddActivityListener(_listener);
        return _listener;
    }

    public void Dispose() => _listener?.Dispose();

    /// <summary>Sends one request under a fresh trace id; the SQL of each round trip it made, in order.</summary>
    private async Task<(RegistryCalls.Response Response, List<string> RoundTrips)> Traced(Func<IDictionary<string, string>, Task<RegistryCalls.Response>> send)
    {
        var trace = ActivityTraceId.CreateRandom();
        var response = await send(Behaviour.Headers(("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01")));
        var roundTrips = _sent.Where(s => s.Trace == trace).Select(s => s.Sql).ToList();
        output.WriteLine($"{response.Raw.RequestMessage!.Method} {response.Raw.RequestMessage.RequestUri}: {response.Status}, {roundTrips.Count} round trips");
        foreach (var sql in roundTrips) output.WriteLine("  - " + sql.ReplaceLineEndings(" "));
        return (response, roundTrips);
    }

    /// <summary>The model "churn" with <paramref name="versions"/> versions: stream version 1 + versions.</summary>
    private async Task Churn(int versions)
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < versions; i++) await Host.RegisterVersion("churn");
    }

    private static int Reads(List<string> roundTrips, string table) =>
        roundTrips.Count(sql => sql.Contains($"from {RegistryStore.Schema}.{table}", StringComparison.OrdinalIgnoreCase));

    [Fact]
    public async Task a_version_registration_locks_reads_and_writes_in_two_round_trips()
    {
        using var _ = Listen();
        await Churn(versions: 2); // stream version 3; the next is 4, no snapshot

        var (registered, roundTrips) = await Traced(headers => Host.RegisterVersionWith("churn", headers));

        Assert.Equal(201, registered.Status);
        // The stream's lock with the model's view and the workspace's settings (confirming this node's copy of the policy
        // and the metadata standard, read by the registrations before); the append with every inline view's write.
        Assert.Equal(2, roundTrips.Count);
        Assert.Contains("for update", roundTrips[0], StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"from {RegistryStore.Schema}.mt_doc_registrysettings", roundTrips[0], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, Reads(roundTrips, "mt_doc_registrysettings"));
        Assert.Equal(1, Reads(roundTrips, "mt_doc_modelview"));
        // No read of the new version's document, of the transition requests or of the model's last registry state.
        Assert.Equal(0, Reads(roundTrips, "mt_doc_modelversionview"));
        Assert.Equal(0, Reads(roundTrips, "mt_doc_transitionrequestsview"));
        Assert.Equal(0, Reads(roundTrips, RegistryStates.Table));
        Assert.All(["mt_quick_append_events", "into registry.mt_doc_modelview ", "into registry.mt_doc_modelversionview ", DeploymentHistory.Table, RegistryStates.Table],
            write => Assert.Contains(write, roundTrips[1], StringComparison.OrdinalIgnoreCase));
        // The appends' notification (the webhook dispatcher wakes on it) rides in the append's batch: no round trip of its own.
        Assert.Contains($"pg_notify('{WebhookDispatcher.Channel}'", roundTrips[1], StringComparison.OrdinalIgnoreCase);
        await TheViewsAgreeWithTheEvents("churn", version: 3, stage: "None");
    }

    [Fact]
    public async Task a_promotion_reads_the_version_it_decides_on_once()
    {
        using var _ = Listen();
        await Churn(versions: 2); // stream version 3; the next is 4, no snapshot

        var (promoted, roundTrips) = await Traced(headers => Host.Promote("churn", 2, "Staging", headers: headers));

        Assert.Equal(200, promoted.Status);
        Assert.Equal("Staging", promoted.Body!["stage"]!.GetValue<string>());
        // The lock with the model's and the version's views and the settings (confirming this node's copy of the policy);
        // the append with every inline view's write. Not the transition requests: the model has none pending, so the move
        // supersedes none (see the test below).
        Assert.Equal(2, roundTrips.Count);
        Assert.Equal(0, Reads(roundTrips, "mt_doc_transitionrequestsview"));
        Assert.Equal(1, Reads(roundTrips, "mt_doc_registrysettings"));
        Assert.Contains("for update", roundTrips[0], StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"from {RegistryStore.Schema}.mt_doc_modelversionview", roundTrips[0], StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"from {RegistryStore.Schema}.mt_doc_registrysettings", roundTrips[0], StringComparison.OrdinalIgnoreCase);
        // Read once with the lock, and folded by the inline projection from the session's identity map: not read again.
        Assert.Equal(1, Reads(roundTrips, "mt_doc_modelversionview"));
        Assert.Equal(0, Reads(roundTrips, RegistryStates.Table));
        Assert.All(["mt_quick_append_events", "into registry.mt_doc_modelview ", "into registry.mt_doc_modelversionview ", DeploymentHistory.Table, RegistryStates.Table],
            write => Assert.Contains(write, roundTrips[^1], StringComparison.OrdinalIgnoreCase));
        Assert.Contains($"pg_notify('{WebhookDispatcher.Channel}'", roundTrips[^1], StringComparison.OrdinalIgnoreCase);
        await TheViewsAgreeWithTheEvents("churn", version: 2, stage: "Staging");
    }

    [Theory]
    [InlineData("register")]
    [InlineData("promote")]
    [InlineData("alias")]
    [InlineData("snapshot")]
    public async Task after_the_append_a_one_event_command_names_no_partitioned_table_so_its_writes_run_on_generic_plans(string command)
    {
        // Generic plans over the partitioned event tables would cover (and lock) every workspace's partition, so the
        // connection plans each run for its one workspace (force_custom_plan); the views' writes after the append name
        // neither table and may keep their plans (issue 17). A statement naming one after the switch would be a defect.
        using var _ = Listen();
        await Churn(versions: 2); // stream version 3
        await Host.Promote("churn", 1, "Staging").Ok(); // 4; the command's event is 5, no snapshot
        // "snapshot": one event more, so the command's event is stream version 6 and writes a snapshot (every 3rd here).
        if (command == "snapshot") await Host.Promote("churn", 1, "Production").Ok();
        var (response, roundTrips) = await Traced(headers => command switch
        {
            "register" or "snapshot" => Host.RegisterVersionWith("churn", headers),
            "promote" => Host.Promote("churn", 2, "Staging", headers: headers),
            _ => Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }, headers),
        });
        Assert.InRange(response.Status, 200, 201);

        var write = roundTrips[^1];
        var append = write.IndexOf("mt_quick_append_events", StringComparison.Ordinal);
        var generic = write.IndexOf(AppendedEventRow.GenericPlans, StringComparison.Ordinal);
        Assert.True(append >= 0 && generic > append, write);
        var after = write[generic..];
        Assert.DoesNotContain($"{RegistryStore.Schema}.mt_events", after, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain($"{RegistryStore.Schema}.mt_streams", after, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(DeploymentHistory.Table, after, StringComparison.Ordinal);
        Assert.Contains(RegistryStates.Table, after, StringComparison.Ordinal);
        Assert.Equal(command == "snapshot", after.Contains(ModelSnapshots.Table, StringComparison.Ordinal));
        await TheViewsAgreeWithTheEvents("churn", version: 2, stage: command is "promote" ? "Staging" : "None");
    }

    [Fact]
    public async Task a_missing_reason_is_spelled_in_the_statement_so_a_prepared_statement_never_meets_other_parameter_types()
    {
        // Npgsql runs a statement it prepared with other parameter types unprepared from then on (planned at each run):
        // a reason bound as a value on one promotion and as an untyped null on the next would cost every later run its
        // plan on that connection. A null is spelled in the text instead, so the two are two statements.
        using var _ = Listen();
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var (withReason, given) = await Traced(headers => Host.Promote("churn", 1, "Staging", reason: "Holdout AUC 0.91.", headers: headers));
        var (without, missing) = await Traced(headers => Host.Promote("churn", 1, "Production", headers: headers));
        Assert.Equal((200, 200), (withReason.Status, without.Status));

        static string Interval(List<string> roundTrips) =>
            roundTrips[^1].Split(';').Single(sql => sql.Contains($"update {RegistryStore.Schema}.{DeploymentHistory.Table}", StringComparison.Ordinal));
        Assert.Matches(@"\$\d+::varchar as reason", Interval(given));
        Assert.Contains("null::varchar as reason", Interval(missing), StringComparison.Ordinal);
        await TheViewsAgreeWithTheEvents("churn", version: 1, stage: "Production");
    }

    [Fact]
    public async Task a_command_of_several_events_reads_each_events_row_and_keeps_custom_plans()
    {
        using var _ = Listen();
        await Churn(versions: 2);
        await Host.Promote("churn", 1, "Production").Ok();

        // Two events in one append: version 1 archived, version 2 promoted. The first is not the last appended, so its rows
        // read its sequence from its row, and the batch stays on the connection's custom plans.
        var (promoted, roundTrips) = await Traced(headers => Host.Promote("churn", 2, "Production", archiveExisting: true, headers: headers));
        Assert.Equal(200, promoted.Status);
        Assert.DoesNotContain(AppendedEventRow.GenericPlans, roundTrips[^1], StringComparison.Ordinal);
        Assert.Contains($"from {RegistryStore.Schema}.mt_events where id = ", roundTrips[^1], StringComparison.Ordinal);
        await TheViewsAgreeWithTheEvents("churn", version: 1, stage: "Archived");
        await TheViewsAgreeWithTheEvents("churn", version: 2, stage: "Production");
    }

    [Fact]
    public async Task the_open_intervals_are_found_by_version_so_a_promotion_does_not_walk_the_stages_other_versions()
    {
        // A promotion closes its version's interval in the stage it leaves (DeploymentHistoryProjection: model, kind,
        // subject, target, version, still open). Every other version in that stage is open there too, hundreds in None on
        // a long-lived model: keyed without the version, the close read them all (0.8 ms of PostgreSQL per promotion at 500 to 750
        // versions in None, docs/benchmarks.md). The index the store made at startup must carry the version. (Which
        // index the planner picks on the tests' small, shared table varies with its statistics; what it can pick does not.)
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select indexdef from pg_indexes where schemaname = $1 and tablename = $2 and indexname = $3", connection)
        {
            Parameters = { new() { Value = RegistryStore.Schema }, new() { Value = DeploymentHistory.Table }, new() { Value = $"ix_{DeploymentHistory.Table}_open" } },
        };
        var definition = (string?)await command.ExecuteScalarAsync();

        Assert.NotNull(definition);
        Assert.EndsWith("(tenant_id, model_id, kind, subject, version) WHERE (left_seq IS NULL)", definition);
    }

    [Fact]
    public async Task a_move_reads_and_writes_the_transition_requests_only_while_one_is_pending()
    {
        using var _ = Listen();
        var host = await App.GovernedHost();
        const string name = "requests-counted";
        await host.RegisterModel(name);
        await host.RegisterVersion(name, RegistryCalls.Sha256A);
        await host.RegisterVersion(name, RegistryCalls.Sha256B);
        var request = (await host.Promote(name, 1, "Production", reason: "AUC 0.93 on holdout.").Ok(202)).Body!["id"]!.GetValue<string>();

        // Pending: moving version 1 outside the request supersedes it, so the requests are read, folded and written.
        var (supersedes, whilePending) = await Traced(headers => host.Promote(name, 1, "Staging", headers: headers));
        Assert.Equal(200, supersedes.Status);
        Assert.Equal(1, Reads(whilePending, "mt_doc_transitionrequestsview"));
        Assert.Contains("mt_doc_transitionrequestsview", whilePending[^1], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(RequestStates.Superseded, (await host.Get($"/api/v1/models/{name}/requests/{request}").Ok()).Body!["state"]!.GetValue<string>());

        // None pending: the next moves neither read nor write them, and the stored requests still are what the events fold to.
        var (moved, nonePending) = await Traced(headers => host.Promote(name, 2, "Staging", headers: headers));
        Assert.Equal(200, moved.Status);
        var (aliased, aliasMove) = await Traced(headers => host.Put($"/api/v1/models/{name}/aliases/challenger", new { version = 2 }, headers));
        Assert.Equal(200, aliased.Status);
        Assert.All([nonePending, aliasMove], roundTrips => Assert.DoesNotContain(roundTrips, sql => sql.Contains("mt_doc_transitionrequestsview", StringComparison.OrdinalIgnoreCase)));

        var store = host.Services.GetRequiredService<IDocumentStore>();
        var id = await store.ModelId(name);
        await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
        TransitionRequestsView? folded = null;
        foreach (var e in await session.Events.FetchStreamAsync(id)) folded = TransitionRequestsView.After(folded, id, e.Data);
        var stored = await session.LoadAsync<TransitionRequestsView>(id);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(folded), System.Text.Json.JsonSerializer.Serialize(stored));
        Assert.Equal(RequestStates.Superseded, Assert.Single(stored!.Requests).State);
    }

    [Fact]
    public async Task views_written_without_reading_first_agree_with_the_events_after_commands_of_several_events()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 3; i++) await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production").Ok();
        // Two events in one append: version 1 archived, version 2 promoted; then an alias moved from one version to another.
        await Host.Promote("churn", 2, "Production", archiveExisting: true).Ok();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 3 }).Ok();
        await Host.Post("/api/v1/models/churn/archive", new { reason = "retired" }).Ok();
        await Host.Post("/api/v1/models/churn/restore", new { }).Ok();

        await TheViewsAgreeWithTheEvents("churn", version: 1, stage: "Archived");
        await TheViewsAgreeWithTheEvents("churn", version: 2, stage: "Production");
        var id = await Store.ModelId("churn");
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var versions = await session.LoadManyAsync<ModelVersionView>(ModelVersionView.Key(id, 2), ModelVersionView.Key(id, 3));
        Assert.Equal([(2, ""), (3, "champion")], versions.OrderBy(v => v.VersionNumber).Select(v => (v.VersionNumber, string.Join(",", v.Aliases))));
    }

    /// <summary>
    /// The views the command wrote without reading first equal what the events give: the version's document, and the
    /// registry-state rows (the projection started from the state the command decided against) against the product's
    /// own fold of the whole stream.
    /// </summary>
    private async Task TheViewsAgreeWithTheEvents(string name, int version, string stage)
    {
        var id = await Store.ModelId(name);
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var view = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(id, version));
        Assert.Equal((version, stage), (view!.VersionNumber, view.Stage));

        var events = await session.Events.FetchStreamAsync(id);
        var expected = RegistryStates.Of(id, events.Select(e => (e.Data, e.Sequence))).ToList();
        var stored = new List<(long, string)>();
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select entered_seq, state from {RegistryStates.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1 and model_id = $2 order by entered_seq",
            connection) { Parameters = { new() { Value = WorkspaceId.Default.TenantId }, new() { Value = id } } };
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) stored.Add((reader.GetInt64(0), reader.GetString(1)));
        Assert.Equal(expected.Select(r => (r.EnteredSeq, r.State)), stored);
        await reader.DisposeAsync();

        // Every interval's ends and every snapshot carry their event row's own sequence, time, actor and reason, whether
        // the statement read the row or computed them (AppendedEventRow); the interval fold of the stream agrees too.
        var rows = new List<string>();
        await using var disagreeing = new NpgsqlCommand(
            $"select h.kind || ' ' || h.subject || ' ' || h.entered_seq || coalesce(' ' || h.left_seq, '') " +
            $"from {DeploymentHistory.QualifiedTable(RegistryStore.Schema)} h " +
            $"left join {RegistryStore.Schema}.mt_events i on i.tenant_id = h.tenant_id and i.seq_id = h.entered_seq " +
            $"left join {RegistryStore.Schema}.mt_events o on o.tenant_id = h.tenant_id and o.seq_id = h.left_seq " +
            "where h.tenant_id = $1 and h.model_id = $2 and (i.seq_id is null or i.timestamp <> h.entered_at " +
            "or i.user_name is distinct from h.entered_by or i.stream_id <> h.model_id " +
            "or h.left_seq is not null and (o.seq_id is null or o.timestamp <> h.left_at or o.user_name is distinct from h.left_by or o.stream_id <> h.model_id)) " +
            $"union all select 'snapshot ' || s.version from {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} s " +
            $"left join {RegistryStore.Schema}.mt_events e on e.tenant_id = s.tenant_id and e.seq_id = s.seq_id " +
            "where s.tenant_id = $1 and s.model_id = $2 and (e.seq_id is null or e.stream_id <> s.model_id or e.version <> s.version)",
            connection) { Parameters = { new() { Value = WorkspaceId.Default.TenantId }, new() { Value = id } } };
        await using (var check = await disagreeing.ExecuteReaderAsync())
            while (await check.ReadAsync()) rows.Add(check.GetString(0));
        Assert.Empty(rows);
        var fold = new IntervalFold();
        foreach (var e in events)
            fold.Apply(e.Data, e.Sequence, e.Timestamp.UtcDateTime, e.UserName,
                e.Headers is { } headers && headers.TryGetValue("reason", out var reason) ? reason?.ToString() : null);
        var intervals = fold.Rows.Select(r => (r.Kind, r.Subject, r.Version, r.EnteredSeq, r.EnteredReason, r.LeftSeq, r.LeftReason)).ToList();
        var kept = new List<(string, string, int?, long, string?, long?, string?)>();
        await using var read = new NpgsqlCommand(
            $"select kind, subject, version, entered_seq, entered_reason, left_seq, left_reason from {DeploymentHistory.QualifiedTable(RegistryStore.Schema)} " +
            "where tenant_id = $1 and model_id = $2 order by entered_seq, id",
            connection) { Parameters = { new() { Value = WorkspaceId.Default.TenantId }, new() { Value = id } } };
        await using (var all = await read.ExecuteReaderAsync())
            while (await all.ReadAsync())
                kept.Add((all.GetString(0), all.GetString(1), all.IsDBNull(2) ? null : all.GetInt32(2), all.GetInt64(3),
                    all.IsDBNull(4) ? null : all.GetString(4), all.IsDBNull(5) ? null : all.GetInt64(5), all.IsDBNull(6) ? null : all.GetString(6)));
        Assert.Equal(intervals.OrderBy(r => r.EnteredSeq), kept);
    }
}
