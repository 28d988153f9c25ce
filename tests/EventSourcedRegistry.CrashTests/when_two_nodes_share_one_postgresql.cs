using System.Diagnostics;
using System.Net;
using EventSourcedRegistry.Api.Audit;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Api.Webhooks;
using EventSourcedRegistry.CrashTests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace EventSourcedRegistry.CrashTests;

/// <summary>
/// Issue 13, item 10: two API nodes on one PostgreSQL (<c>ConnectionStrings__Registry</c>), as the scale-out
/// deployment runs. Writes go through both; the same Idempotency-Key sent through both appends once; the async
/// projections (audit log, hash chain) run on exactly one node and fail over to the other when it is SIGKILLed; the
/// audit log catches up and <c>/audit/verify</c> covers every event in the store. Issue 16, item 5: the node killed holds
/// Wolverine's leadership too; the survivor takes the leadership and the durability agent over, and signs the periodic
/// checkpoints (a job one node of the cluster runs), within 60 s. Issue 16, webhooks: a subscription to every model event,
/// delivered by the node holding the dispatcher's lock (node a too); before the kill each event is delivered exactly once,
/// after it the survivor takes the lock and delivers the rest within 60 s, in order per model, and in the end every event
/// the subscription matches was delivered, under one delivery id per event (a resend only of the delivery in flight at the kill).
/// </summary>
public sealed class when_two_nodes_share_one_postgresql(ITestOutputHelper output)
    : CrashScenario(output, "two API nodes on one PostgreSQL, the audit worker's and webhook dispatcher's node SIGKILLed")
{
    private static readonly string[] ModelNames = ["nodes-a", "nodes-b"];
    private const string NodePrefix = "esr-crash-node-";

    [Fact]
    public async Task writes_go_through_both_and_the_projections_fail_over_to_the_survivor()
    {
        var total = Stopwatch.StartNew();
        await using var postgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = NewDirectory("pg"), Durable = true });
        await using var store = NpgsqlDataSource.Create(postgres.ConnectionString);
        // Artifacts and the audit signing key: one folder for both nodes, as README asks of a cluster.
        var shared = NewDirectory("shared");
        await using var receiver = await WebhookReceiver.Start();
        Dictionary<string, string?> Node(string name) => new()
        {
            // The application name tells the nodes' sessions apart in pg_stat_activity (who holds the audit worker's lock).
            ["ConnectionStrings__Registry"] = postgres.ConnectionString + $";Application Name={NodePrefix}{name}",
            ["Registry__DataDirectory"] = shared,
            // Wolverine's timings short (the defaults take a killed leader's work over within about 30 s), and a checkpoint every 5 s.
            ["Registry__Messaging__HeartbeatInterval"] = "00:00:01",
            ["Registry__Messaging__StaleNodeAfter"] = "00:00:03",
            ["Registry__Messaging__PollingInterval"] = "00:00:00.5",
            ["Registry__Audit__CheckpointInterval"] = "00:00:05",
            ["Registry__Webhooks__AllowedTargets"] = WebhookReceiver.Address,
            // A slow answer on a loaded machine must not time out into a resend: a duplicate here is a crash's only.
            ["Registry__Webhooks__Timeout"] = "00:01:00",
            // Which node delivered when, for a failure's report.
            ["Logging__LogLevel__EventSourcedRegistry.Api.Webhooks"] = "Information",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        };
        var first = await StartNode("a", Node("a"));
        // Node a starts alone, so it takes Wolverine's leadership (its node row is the only one) as well as the audit worker's
        // and the webhook dispatcher's locks.
        Guid? firstNode = null;
        var hooksOnA = false;
        for (var waited = Stopwatch.StartNew(); (firstNode is null || !hooksOnA) && waited.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(50))
        {
            firstNode = (await WolverineAgentNodes(store))[0];
            hooksOnA = (await LockHolders(store, WebhookDispatcher.LockKey)).SequenceEqual([NodePrefix + first.Name]);
        }
        Assert.True(firstNode is not null, "node a took no Wolverine leadership within 30 s of starting alone");
        Assert.True(hooksOnA, "node a took no webhook dispatcher lock within 30 s of starting alone");
        var hook = await receiver.Subscribe(Http, first.BaseAddress);
        var nodes = new[] { first, await StartNode("b", Node("b")) };
        await Ledger.RegisterModels(Http, nodes[0].BaseAddress, ModelNames, RunId);
        var models = await WebhookReceiver.ModelIds(Http, nodes[0].BaseAddress, ModelNames);

        // Writer w writes through node w % 2, and through the other one while that is down.
        Uri Through(int writer) => (nodes[writer % 2].HasExited ? nodes[1 - writer % 2] : nodes[writer % 2]).BaseAddress;
        var writers = new VersionWriters(Http, ModelNames, writers: 4, Through, RunId);
        using var stop = new CancellationTokenSource();
        var run = writers.Run(stop.Token, settle: TimeSpan.FromSeconds(60));
        var outcome = "failed";
        var survivor = nodes[1];
        try
        {
            await writers.WaitForMoreAcks(20, atLeast: TimeSpan.FromSeconds(2), timeout: TimeSpan.FromSeconds(90));

            // The same key through both nodes at once, as a client that timed out on one retries on the other.
            var twice = await SameKeyThroughBoth(nodes, count: 10);

            var leaders = await LockHolders(store, AuditWorker.LockKey);
            Assert.True(leaders.Count == 1, $"the async projections run on exactly one node; sessions holding advisory locks: {string.Join(", ", leaders)}");
            var leader = nodes.Single(n => leaders[0] == NodePrefix + n.Name);
            survivor = nodes.Single(n => n != leader);
            // Node a started alone, so it took both leaderships; the kill below then fails both over at once.
            Assert.Equal(leader, nodes[0]);
            Assert.Equal(firstNode, (await WolverineAgentNodes(store))[0]);
            Assert.Equal([NodePrefix + leader.Name], await LockHolders(store, WebhookDispatcher.LockKey));

            // Kill the audit worker's node; the survivor must take the projections over and run them past what is written now.
            // What the receiver got before the kill came from node a alone; so did whatever arrived up to the kill's end.
            var deliveringBeforeKill = await receiver.WaitFor(d => d.Count > 0, TimeSpan.FromSeconds(60));
            var stateAtKill = await WebhookReceiver.State(Http, survivor.BaseAddress, hook.Id);
            if (!deliveringBeforeKill) stateAtKill += "; " + await Sessions(store);
            var beforeKill = receiver.All;
            await leader.Kill();
            var down = Stopwatch.StartNew();
            var fromKilled = receiver.All.Count;
            await writers.WaitForMoreAcks(1, atLeast: TimeSpan.Zero, timeout: TimeSpan.FromSeconds(60));
            var writtenAfterKill = await Ledger.Scalar<long>(store, $"select max(seq_id) from {Ledger.Schema}.mt_events");
            TimeSpan? takeover = null, caughtUp = null, wolverineTakeover = null, durabilityTakeover = null, hookTakeover = null, hooksCaughtUp = null;
            while (caughtUp is null || wolverineTakeover is null || durabilityTakeover is null || hooksCaughtUp is null)
            {
                if (down.Elapsed > TimeSpan.FromSeconds(90))
                    throw new TimeoutException($"The survivor did not take the async projections, Wolverine's agents and the webhooks over within 90 s " +
                                               $"(audit lock: {takeover?.TotalSeconds:F1} s, caught up: {caughtUp?.TotalSeconds:F1} s, " +
                                               $"Wolverine's leadership: {wolverineTakeover?.TotalSeconds:F1} s, durability agent: {durabilityTakeover?.TotalSeconds:F1} s, " +
                                               $"webhook lock: {hookTakeover?.TotalSeconds:F1} s, deliveries caught up: {hooksCaughtUp?.TotalSeconds:F1} s).");
                if (takeover is null && (await LockHolders(store, AuditWorker.LockKey)).SequenceEqual([NodePrefix + survivor.Name])) takeover = down.Elapsed;
                if (takeover is not null && caughtUp is null && await AuditProgress(store) >= writtenAfterKill) caughtUp = down.Elapsed;
                if (hookTakeover is null && (await LockHolders(store, WebhookDispatcher.LockKey)).SequenceEqual([NodePrefix + survivor.Name])) hookTakeover = down.Elapsed;
                if (hookTakeover is not null && hooksCaughtUp is null && await DeliveredThrough(receiver, store, models, hook.Cursor, writtenAfterKill))
                    hooksCaughtUp = down.Elapsed;
                var agents = await WolverineAgentNodes(store);
                if (wolverineTakeover is null && agents[0] is { } lead && lead != firstNode) wolverineTakeover = down.Elapsed;
                if (durabilityTakeover is null && agents[1] is { } durable && durable != firstNode) durabilityTakeover = down.Elapsed;
                await Task.Delay(50);
            }
            await writers.WaitForMoreAcks(20, atLeast: TimeSpan.FromSeconds(2), timeout: TimeSpan.FromSeconds(90));
            stop.Cancel();
            await run;
            // The periodic signing, a job one node of the cluster runs, is signed by the survivor now.
            var killedAt = DateTimeOffset.UtcNow - down.Elapsed;
            TimeSpan? signed = null;
            while (signed is null && down.Elapsed < TimeSpan.FromSeconds(150))
            {
                if (await Ledger.Scalar<long>(store, $"select count(*) from {Ledger.Schema}.mt_doc_auditcheckpoint where mt_last_modified > '{killedAt.UtcDateTime:O}'::timestamptz") > 0)
                    signed = down.Elapsed;
                else await Task.Delay(100);
            }

            var acks = writers.Acks.Concat(twice).ToList();
            var verdict = await Ledger.Check(Http, survivor.BaseAddress, store, ModelNames, acks, writers.Unresolved);
            var (verify, storeEvents, _) = await Ledger.VerifyChain(Http, survivor.BaseAddress, store, TimeSpan.FromSeconds(90));
            // Every event the subscription matches, written before the writers stopped, delivered (generously: the chain's wait came first).
            var storeMax = await Ledger.Scalar<long>(store, $"select max(seq_id) from {Ledger.Schema}.mt_events");
            for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(90); await Task.Delay(100))
                if (await DeliveredThrough(receiver, store, models, hook.Cursor, storeMax)) break;
            var deliveries = receiver.All;
            var hooks = WebhookReceiver.Check(deliveries, await WebhookReceiver.Matching(store, models, hook.Cursor), hook.Id, hook.Secret);
            // A sequence sent more than once: twice at most, first by the killed node, then by the survivor (the delivery in flight at the kill).
            var resent = deliveries.GroupBy(d => d.Sequence).Where(g => g.Count() > 1)
                .Where(g => g.Count() > 2 || g.First().Index > fromKilled || g.Last().Index <= fromKilled)
                .Select(g => $"sequence {g.Key} sent {g.Count()} times, as requests {string.Join(", ", g.Select(d => d.Index))} (the kill after request {fromKilled})")
                .ToList();

            Figures.Add(verdict);
            Figures.Add("same key sent through both nodes at once: keys / stored once", $"{twice.Count / 2} / {twice.Count / 2 - verdict.Duplicated}");
            Figures.Add("worker node SIGKILLed -> survivor holds the worker lock", takeover!.Value);
            Figures.Add("worker node SIGKILLed -> audit projections past the writes made after the kill", caughtUp!.Value);
            Figures.Add("leader SIGKILLed -> survivor holds Wolverine's leadership", wolverineTakeover!.Value);
            Figures.Add("leader SIGKILLed -> the durability agent on the survivor", durabilityTakeover!.Value);
            Figures.Add("leader SIGKILLed -> a periodic checkpoint signed by the survivor (writers stopped first)", signed is { } t ? $"{t.TotalSeconds:F1} s" : "none");
            Figures.Add(hooks);
            Figures.Add("webhook: the subscription at the kill", stateAtKill);
            Figures.Add("webhook: delivered before the kill (node a), all distinct", $"{beforeKill.Count}, {beforeKill.DistinctBy(d => d.DeliveryId).Count() == beforeKill.Count}");
            Figures.Add("dispatcher node SIGKILLed -> survivor holds the webhook lock", hookTakeover!.Value);
            Figures.Add("dispatcher node SIGKILLed -> the matched events through the first write after the kill delivered", hooksCaughtUp!.Value);
            Figures.Add("retries (same key) / unanswered attempts", $"{writers.Retries} / {writers.Unanswered}");
            Figures.Add("answers by status", writers.Statuses);
            Figures.Add("audit/verify: verified, events / store events", $"{verify["verified"]}, {verify["events"]} / {storeEvents}");
            Figures.Add("duration", total.Elapsed);

            Ledger.AssertNothingLost(writers, verdict, verify, storeEvents);
            Assert.True(takeover < TimeSpan.FromSeconds(60) && caughtUp < TimeSpan.FromSeconds(60), "the async projections took over 60 s to fail over");
            Assert.True(wolverineTakeover < TimeSpan.FromSeconds(60) && durabilityTakeover < TimeSpan.FromSeconds(60), "Wolverine's agents took over 60 s to fail over");
            Assert.True(signed is not null, "the survivor signed no periodic checkpoint after the kill");
            Assert.True(deliveringBeforeKill, $"node a delivered nothing in the 60 s before the kill (subscription: {stateAtKill})");
            Assert.Equal(beforeKill.Count, beforeKill.DistinctBy(d => d.DeliveryId).Count());
            Assert.Empty(hooks.Problems);
            Assert.Empty(resent);
            Assert.True(hookTakeover < TimeSpan.FromSeconds(60) && hooksCaughtUp < TimeSpan.FromSeconds(60), "the webhook deliveries took over 60 s to fail over");
            outcome = "passed";
        }
        finally
        {
            stop.Cancel();
            Figures.Print(outcome);
            if (outcome != "passed") WriteNodeOutputs();
        }
    }

    // Each key goes to both nodes concurrently and is resolved on each (a 5xx or no answer is retried there); both
    // answers must be acknowledgements naming the same version, and the oracle then finds the key stored once.
    private async Task<List<Ack>> SameKeyThroughBoth(ApiNode[] nodes, int count)
    {
        var acks = new List<Ack>();
        for (var i = 1; i <= count; i++)
        {
            var write = new Write($"{RunId}-both-{i}", ModelNames[i % ModelNames.Length], Writer: 100, Seq: i);
            var answers = await Task.WhenAll(nodes.Select(n => ResolveOn(n, write)));
            Assert.All(answers, a => Assert.True(a.Ack is not null, $"{write.Key}: {(int?)a.Status} {a.Body}"));
            Assert.Equal(answers[0].Ack!.Version, answers[1].Ack!.Version);
            acks.AddRange(answers.Select(a => a.Ack!));
        }
        return acks;
    }

    private async Task<VersionWriters.Outcome> ResolveOn(ApiNode node, Write write)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var outcome = await VersionWriters.Send(Http, node.BaseAddress, write);
            // A concurrent twin may hold the key's row for a moment: the loser answers 409/5xx, and a retry then replays. Generous:
            // on a loaded machine one unanswered attempt alone takes the client's 60 s timeout.
            if (outcome.Ack is not null || clock.Elapsed > TimeSpan.FromSeconds(150)
                || outcome.Status is { } status && (int)status < 500 && status != HttpStatusCode.Conflict) return outcome;
            await Task.Delay(100);
        }
    }

    // Which nodes' sessions hold a leader's advisory lock (the audit worker's, the webhook dispatcher's), held for as long as
    // it leads. Only that key counts: a command's transaction-scoped advisory locks (quota, key grants, partitions) on the
    // other node would otherwise look like a second leader for the instant they are held. A bigint key shows in pg_locks as
    // classid (high 32 bits), objid (low 32 bits) and objsubid 1.
    private static async Task<List<string>> LockHolders(NpgsqlDataSource store, long key)
    {
        await using var command = store.CreateCommand(
            "select distinct a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid " +
            "where l.locktype = 'advisory' and l.granted and l.objsubid = 1 and ((l.classid::bigint << 32) | l.objid::bigint) = $1 " +
            $"and a.application_name like '{NodePrefix}%' order by 1");
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }

    // The nodes Wolverine's leader agent and the database's durability agent (scheduled messages, recovery of a dead node's
    // messages) are assigned to (null: unassigned). Wolverine's own sessions carry its application name, not the node's, so the
    // nodes are told apart by Wolverine's node ids.
    private static async Task<Guid?[]> WolverineAgentNodes(NpgsqlDataSource store)
    {
        await using var command = store.CreateCommand(
            "select (select node_id from wolverine.wolverine_node_assignments where id = 'wolverine://leader/'), " +
            "(select node_id from wolverine.wolverine_node_assignments where id like 'wolverinedb://postgresql/%')");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return [reader.IsDBNull(0) ? null : reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetGuid(1)];
    }

    // For a failure's report: the workspace's high-water mark and sequence, and every session in a transaction or a
    // statement for over a second (what it runs, what it waits on).
    private static async Task<string> Sessions(NpgsqlDataSource store)
    {
        var mark = await Ledger.Scalar<long?>(store, $"select last_seq_id from {Ledger.Schema}.mt_event_progression where name = 'HighWaterMark:default'");
        var events = await Ledger.Scalar<long?>(store, $"select max(seq_id) from {Ledger.Schema}.mt_events");
        await using var command = store.CreateCommand(
            "select application_name, state, coalesce(wait_event_type || ':' || wait_event, ''), " +
            "extract(epoch from clock_timestamp() - coalesce(xact_start, query_start))::int, left(query, 120) from pg_stat_activity " +
            "where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend' " +
            "and (xact_start < clock_timestamp() - interval '1 second' or (state = 'active' and query_start < clock_timestamp() - interval '1 second'))");
        await using var reader = await command.ExecuteReaderAsync();
        var sessions = new List<string>();
        while (await reader.ReadAsync())
            sessions.Add($"[{reader.GetString(0)} {reader.GetString(1)} {reader.GetString(2)} {reader.GetInt32(3)} s: {reader.GetString(4)}]");
        return $"high-water mark {mark}, events {events}, long sessions: {string.Join(" ", sessions)}";
    }

    // Whether the receiver took (answered) a delivery of every event the subscription matches up to the sequence given.
    private static async Task<bool> DeliveredThrough(WebhookReceiver receiver, NpgsqlDataSource store, IReadOnlyCollection<Guid> models, long after, long upTo)
    {
        var delivered = receiver.All.Where(d => !d.Held).Select(d => d.Sequence).ToHashSet();
        return (await WebhookReceiver.Matching(store, models, after)).All(e => e.Sequence > upTo || delivered.Contains(e.Sequence));
    }

    // The lower of the two async projections' stored progress in the default workspace (Marten's mt_event_progression
    // keeps a row per projection and workspace: AuditLog:All:default).
    private static async Task<long> AuditProgress(NpgsqlDataSource store) =>
        await Ledger.Scalar<long?>(store, $"select min(last_seq_id) from {Ledger.Schema}.mt_event_progression where name like 'Audit%:default'") ?? 0;
}
