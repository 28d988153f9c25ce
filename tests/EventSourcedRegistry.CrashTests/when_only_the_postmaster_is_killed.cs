using System.Diagnostics;
using EventSourcedRegistry.CrashTests.Support;
using Xunit.Abstractions;

namespace EventSourcedRegistry.CrashTests;

/// <summary>
/// Issue 13, item 9: SIGKILL the embedded PostgreSQL's postmaster under a running API. Before the fix the API stayed
/// unready for good (no new postmaster) until someone restarted it. Now it notices, restarts its PostgreSQL on the same
/// data directory (crash recovery) and serves again by itself — both when it started that PostgreSQL and when it had
/// adopted one an earlier, SIGKILLed API instance left running — with nothing acknowledged lost.
/// </summary>
public sealed class when_only_the_postmaster_is_killed(ITestOutputHelper output)
    : CrashScenario(output, "only the postmaster SIGKILLed, under an API that started it and under one that adopted it")
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(60);
    private static readonly string[] ModelNames = ["postmaster-a", "postmaster-b"];

    [Fact]
    public async Task the_api_restarts_its_postgresql_by_itself_and_loses_nothing_acknowledged()
    {
        var total = Stopwatch.StartNew();
        var data = NewDirectory("postmaster");
        var environment = new Dictionary<string, string?> { ["Registry__DataDirectory"] = data };
        var node = await StartNode("api", environment);
        await Ledger.RegisterModels(Http, node.BaseAddress, ModelNames, RunId);

        var writers = new VersionWriters(Http, ModelNames, writers: 4, _ => node.BaseAddress, RunId);
        using var stop = new CancellationTokenSource();
        var run = writers.Run(stop.Token, settle: TimeSpan.FromSeconds(60));
        var outcome = "failed";
        try
        {
            // 1. The API started this PostgreSQL itself.
            await writers.WaitForMoreAcks(10, atLeast: TimeSpan.FromSeconds(2), timeout: TimeSpan.FromSeconds(90));
            var (ownedRed, ownedGreen, ownedPostmasters) = await KillPostmaster(node, data);
            await writers.WaitForMoreAcks(10, atLeast: TimeSpan.FromSeconds(2), timeout: TimeSpan.FromSeconds(90));

            // 2. The API adopted a PostgreSQL it did not start: SIGKILL the API alone, so its PostgreSQL lives on, start another.
            await node.Kill();
            node = await StartNode("api", environment);
            Assert.Contains("Reusing the PostgreSQL server", node.Output, StringComparison.Ordinal);
            await writers.WaitForMoreAcks(10, atLeast: TimeSpan.FromSeconds(2), timeout: TimeSpan.FromSeconds(90));
            var (adoptedRed, adoptedGreen, adoptedPostmasters) = await KillPostmaster(node, data);
            await writers.WaitForMoreAcks(10, atLeast: TimeSpan.FromSeconds(2), timeout: TimeSpan.FromSeconds(90));
            stop.Cancel();
            await run;

            await using var store = Ledger.EmbeddedStore(data);
            var verdict = await Ledger.Check(Http, node.BaseAddress, store, ModelNames, writers.Acks, writers.Unresolved);
            var (verify, storeEvents, _) = await Ledger.VerifyChain(Http, node.BaseAddress, store, TimeSpan.FromSeconds(90));

            Figures.Add(verdict);
            Figures.Add("API that started its PostgreSQL: readiness red after / green again after", $"{ownedRed.TotalSeconds:F1} s / {ownedGreen.TotalSeconds:F1} s");
            Figures.Add("API that adopted its PostgreSQL: readiness red after / green again after", $"{adoptedRed.TotalSeconds:F1} s / {adoptedGreen.TotalSeconds:F1} s");
            Figures.Add("postmaster PIDs (killed -> new)", $"{ownedPostmasters}, {adoptedPostmasters}");
            Figures.Add("retries (same key) / unanswered attempts", $"{writers.Retries} / {writers.Unanswered}");
            Figures.Add("answers by status", writers.Statuses);
            Figures.Add("audit/verify: verified, events / store events", $"{verify["verified"]}, {verify["events"]} / {storeEvents}");
            Figures.Add("duration", total.Elapsed);

            Assert.Contains("restarting it on port", node.Output, StringComparison.Ordinal);
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

    // SIGKILL the postmaster only (its backends notice and exit by themselves); readiness must go red, then green.
    private static async Task<(TimeSpan Red, TimeSpan Green, string Postmasters)> KillPostmaster(ApiNode node, string data)
    {
        var killed = Signals.PostmasterOf(data);
        Signals.Kill(killed);
        var (red, green) = await WatchReadiness(node, Recovery);
        var now = Signals.PostmasterOf(data);
        Assert.NotEqual(killed, now);
        Assert.True(Signals.IsAlive(now), "a new postmaster serves the data directory");
        return (red, green, $"{killed} -> {now}");
    }
}
