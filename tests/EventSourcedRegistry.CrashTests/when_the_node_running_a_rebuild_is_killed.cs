using System.Diagnostics;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.CrashTests.Support;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx;
using Marten;
using Npgsql;
using Xunit.Abstractions;

namespace EventSourcedRegistry.CrashTests;

/// <summary>
/// Issue 16, item 4: a projection rebuild is a durable message. The node running one is SIGKILLed half-way; the other node
/// of the cluster (Wolverine's durability agent, once the dead node's heartbeat is stale) takes the message over and runs the
/// rebuild again from the start, to the end, within 60 s; the job shows the second attempt and the survivor's id.
/// </summary>
public sealed class when_the_node_running_a_rebuild_is_killed(ITestOutputHelper output)
    : CrashScenario(output, "two API nodes, the one running a projection rebuild SIGKILLed")
{
    // Three batches of the rebuild (5,000 models each at most): the last holds only the model the test keeps locked, so the
    // killed node has written progress (one or two batches) and is still running, waiting for that lock, when it dies.
    private const int Models = 10_001;

    [Fact]
    public async Task the_survivor_runs_the_rebuild_again_and_completes_it()
    {
        var total = Stopwatch.StartNew();
        await using var postgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = NewDirectory("pg"), Durable = true });
        await using var store = NpgsqlDataSource.Create(postgres.ConnectionString);
        var shared = NewDirectory("shared");
        Dictionary<string, string?> Node() => new()
        {
            ["ConnectionStrings__Registry"] = postgres.ConnectionString,
            ["Registry__DataDirectory"] = shared,
            // Wolverine's timings short, as in when_two_nodes_share_one_postgresql (the defaults take about 30 s).
            ["Registry__Messaging__HeartbeatInterval"] = "00:00:01",
            ["Registry__Messaging__StaleNodeAfter"] = "00:00:03",
            ["Registry__Messaging__PollingInterval"] = "00:00:00.5",
        };
        var killed = await StartNode("a", Node());
        // The second node starts while the models are written (node a made the schema): the test's wall time is mostly these two.
        var second = StartNode("b", Node());
        var outcome = "failed";
        try
        {
            var seeding = Stopwatch.StartNew();
            await Seed(postgres.ConnectionString);
            Figures.Add("models seeded (one event each, straight into Marten)", $"{Models:N0} in {seeding.Elapsed.TotalSeconds:F1} s");
            var survivor = await second;

            string id;
            JsonNode atKill;
            var down = new Stopwatch();
            await using (var locks = await LockLastStream(postgres.ConnectionString))
            {
                using var started = await Http.SendAsync(Ledger.Request(HttpMethod.Post, killed.BaseAddress, "api/v1/admin/projections/rebuild", new { projection = "ModelView" }));
                var body = await started.Content.ReadAsStringAsync();
                Assert.True((int)started.StatusCode == 202, $"{(int)started.StatusCode} {body}");
                id = JsonNode.Parse(body)!["id"]!.GetValue<string>();

                // Read through the other node: running on the first node, with progress written, and held at the locked model.
                atKill = await Until(survivor, id, s => s["state"]!.GetValue<string>() == "running" && s["attempts"]!.GetValue<int>() == 1
                                                         && s["eventsProcessed"]!.GetValue<long>() > 0, TimeSpan.FromSeconds(60));
                await killed.Kill();
                down.Start();
            }

            var resumed = await Until(survivor, id, s => s["attempts"]!.GetValue<int>() >= 2, TimeSpan.FromSeconds(60));
            var resumedAfter = down.Elapsed;
            var ended = await Until(survivor, id, s => s["state"]!.GetValue<string>() != "running", TimeSpan.FromSeconds(60) - down.Elapsed);
            var endedAfter = down.Elapsed;

            Figures.Add("progress when the node was killed (events of the workspace)", $"{atKill["eventsProcessed"]} of {atKill["eventsTotal"]}");
            Figures.Add("node SIGKILLed -> the survivor runs the rebuild again (attempt 2)", resumedAfter);
            Figures.Add("node SIGKILLed -> the rebuild succeeded", endedAfter);
            Figures.Add("final state, attempts, report", $"{ended["state"]}, {ended["attempts"]}, {ended["reports"]?.ToJsonString()}");
            Figures.Add("duration", total.Elapsed);

            Assert.True(ended["state"]!.GetValue<string>() == "succeeded", ended.ToJsonString());
            Assert.True(ended["attempts"]!.GetValue<int>() >= 2, ended.ToJsonString());
            Assert.NotEqual(atKill["node"]!.GetValue<Guid>(), ended["node"]!.GetValue<Guid>());
            Assert.Equal(resumed["node"]!.GetValue<Guid>(), ended["node"]!.GetValue<Guid>());
            Assert.Equal(await Ledger.Scalar<long>(store, $"select count(*) from {Ledger.Schema}.mt_events where tenant_id = 'default'"),
                ended["eventsProcessed"]!.GetValue<long>());
            Assert.True(endedAfter < TimeSpan.FromSeconds(60), $"the survivor took {endedAfter.TotalSeconds:F1} s to complete the rebuild");
            outcome = "passed";
        }
        finally
        {
            // Started or failed, never still starting: the scenario's cleanup stops every node it started.
            await Task.WhenAny(second);
            Figures.Print(outcome);
            if (outcome != "passed") WriteNodeOutputs();
        }
    }

    /// <summary>The models, written with the registry's own Marten configuration (HTTP would take minutes for ten thousand).</summary>
    private static async Task Seed(string connectionString)
    {
        using var documents = DocumentStore.For(options =>
        {
            options.Connection(connectionString);
            options.ConfigureRegistry();
            // The nodes made the schema and registered the workspace.
            options.AutoCreateSchemaObjects = AutoCreate.None;
        });
        foreach (var chunk in Enumerable.Range(0, Models).Chunk(2_500))
        {
            await using var session = documents.LightweightSession(WorkspaceId.Default.TenantId);
            foreach (var i in chunk)
            {
                var id = Guid.NewGuid();
                var name = $"rebuild-{i:D5}";
                session.Events.StartStream<ModelView>(id, new ModelRegistered(id, name, null, new Dictionary<string, string>()));
                session.Store(new ModelNameIndex { Id = name, ModelId = id });
            }
            await session.SaveChangesAsync();
        }
    }

    /// <summary>Holds the row of the model whose id sorts last (the rebuild's last batch) locked, as an append holds it.</summary>
    private static async Task<IAsyncDisposable> LockLastStream(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            $"select id from {Ledger.Schema}.mt_streams where tenant_id = 'default' order by id desc limit 1 for update", connection, transaction);
        Assert.NotNull(await command.ExecuteScalarAsync());
        return new Held(connection, transaction);
    }

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await connection.DisposeAsync();
        }
    }

    private async Task<JsonNode> Until(ApiNode node, string id, Func<JsonNode, bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        JsonNode? status = null;
        while (clock.Elapsed < timeout)
        {
            using var response = await Http.SendAsync(Ledger.Request(HttpMethod.Get, node.BaseAddress, $"api/v1/admin/projections/rebuilds/{id}"));
            if (response.IsSuccessStatusCode)
            {
                status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                if (condition(status)) return status;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Rebuild {id} as node {node.Name} reads it, after {timeout.TotalSeconds:F0} s: {status?.ToJsonString()}");
    }
}
