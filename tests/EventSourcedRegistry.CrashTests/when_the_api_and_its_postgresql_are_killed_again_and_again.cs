using System.Diagnostics;
using EventSourcedRegistry.CrashTests.Support;
using Xunit.Abstractions;

namespace EventSourcedRegistry.CrashTests;

/// <summary>
/// Issue 13, item 10: the embedded default (durable: fsync and synchronous_commit on) under 8 writers with
/// Idempotency-Keys on 4 models, while the API and its whole PostgreSQL are SIGKILLed 4 times and started again on the
/// same data directory. Writers retry an unanswered request with the same key. Every acknowledged version must exist
/// with the body it was sent, versions stay 1..n, and no retried key is appended twice.
/// </summary>
public sealed class when_the_api_and_its_postgresql_are_killed_again_and_again(ITestOutputHelper output)
    : CrashScenario(output, "API and PostgreSQL SIGKILLed 4 times (embedded, durable)")
{
    private const int Kills = 4;
    private static readonly string[] ModelNames = ["crash-a", "crash-b", "crash-c", "crash-d"];

    [Fact]
    public async Task every_acknowledged_version_is_stored_once_with_the_body_it_was_sent()
    {
        var total = Stopwatch.StartNew();
        var data = NewDirectory("kill-all");
        var environment = new Dictionary<string, string?> { ["Registry__DataDirectory"] = data };
        var node = await StartNode("api", environment);
        await Ledger.RegisterModels(Http, node.BaseAddress, ModelNames, RunId);

        var writers = new VersionWriters(Http, ModelNames, writers: 8, _ => node.BaseAddress, RunId);
        using var stop = new CancellationTokenSource();
        var run = writers.Run(stop.Token, settle: TimeSpan.FromSeconds(60));
        var restarts = new List<TimeSpan>();
        var outcome = "failed";
        try
        {
            for (var kill = 1; kill <= Kills; kill++)
            {
                await writers.WaitForMoreAcks(25, atLeast: TimeSpan.FromSeconds(3), timeout: TimeSpan.FromSeconds(180));
                // The API and every PostgreSQL process at once: nothing gets to shut down, flush or say goodbye.
                var api = node.Pid;
                Signals.Kill(api);
                KillPostgresTree(data);
                var down = Stopwatch.StartNew();
                await node.Kill();
                node = await StartNode("api", environment);
                restarts.Add(down.Elapsed);
            }
            await writers.WaitForMoreAcks(25, atLeast: TimeSpan.FromSeconds(3), timeout: TimeSpan.FromSeconds(180));
            stop.Cancel();
            await run;

            await using var store = Ledger.EmbeddedStore(data);
            var verdict = await Ledger.Check(Http, node.BaseAddress, store, ModelNames, writers.Acks, writers.Unresolved);
            var (verify, storeEvents, _) = await Ledger.VerifyChain(Http, node.BaseAddress, store, TimeSpan.FromSeconds(90));

            Figures.Add(verdict);
            Figures.Add("SIGKILLs of API + PostgreSQL", Kills);
            Figures.Add("kill to ready again (restart, crash recovery, warm-up)", restarts);
            Figures.Add("retries (same key) / unanswered attempts", $"{writers.Retries} / {writers.Unanswered}");
            Figures.Add("answers by status", writers.Statuses);
            Figures.Add("audit/verify: verified, events / store events", $"{verify["verified"]}, {verify["events"]} / {storeEvents}");
            Figures.Add("duration", total.Elapsed);

            Assert.True(verdict.Acknowledged >= 5 * 25, $"the writers kept writing between the kills ({verdict.Acknowledged} acknowledged)");
            Ledger.AssertNothingLost(writers, verdict, verify, storeEvents);
            outcome = "passed";
        }
        finally
        {
            stop.Cancel();
            Figures.Print(outcome);
            if (outcome != "passed") WriteNodeOutputs();
        }
    }
}
