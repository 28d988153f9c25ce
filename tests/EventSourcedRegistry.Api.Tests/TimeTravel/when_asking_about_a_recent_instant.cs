using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

/// <summary>
/// Issue 13, item 1: an as-of answer is the state at that instant or a refusal, never an older state. Each round
/// changes something, waits 20 ms and asks about "now": the answer must be exactly the state after the change, or
/// 503 "Not settled yet" with Retry-After. Before the fix the instant was capped at the daemon's high-water mark and
/// most rounds answered the state before the change (or 404 for a model that existed).
/// </summary>
// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_asking_about_a_recent_instant(AppFixture app) : ApiTest(app)
{
    private const int Rounds = 30;

    private static string Now() => Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"));

    private static int[] Versions(JsonNode? stages, string stage) =>
        stages?[stage]?.AsArray().Select(v => v!.GetValue<int>()).ToArray() ?? [];

    /// <summary>Counts answers and refusals; anything else (a stale answer, a 404, another status) fails the test.</summary>
    private sealed class Tally
    {
        public int Answered { get; private set; }
        public int Refused { get; private set; }

        /// <summary>True when the response is an answer to check; false when it is a proper refusal.</summary>
        public bool Answer(RegistryCalls.Response response, int round)
        {
            if (response.Status == 503)
            {
                var problem = response.AssertProblem(503);
                Assert.Equal("Not settled yet", problem["title"]!.GetValue<string>());
                Assert.True(response.Raw.Headers.RetryAfter?.Delta is { } delta && delta > TimeSpan.Zero,
                    $"round {round}: a refusal without Retry-After: {response.Body}");
                Refused++;
                return false;
            }
            Assert.True(response.Status == 200, $"round {round}: expected the state at that instant or 503, got {response.Status}: {response.Body}");
            Answered++;
            return true;
        }

        /// <summary>All refusals would prove nothing about the answers: most rounds must settle within the wait.</summary>
        public void AssertMostlyAnswered(int rounds) =>
            Assert.True(Answered * 2 >= rounds, $"{Answered} of {rounds} rounds answered, {Refused} refused");
    }

    private async Task<string> Stage_moved(int round)
    {
        var stage = round % 2 == 0 ? "Production" : "Staging";
        Assert.Equal(200, (await Host.Promote("churn", 1, stage)).Status);
        await Task.Delay(20);
        return stage;
    }

    private async Task A_model_with_a_version()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn", RegistryCalls.Sha256B);
    }

    [Fact]
    public async Task every_model_as_of_now_after_a_stage_move_is_the_current_state_or_not_settled_yet()
    {
        await A_model_with_a_version();
        var tally = new Tally();
        for (var round = 0; round < Rounds; round++)
        {
            var stage = await Stage_moved(round);
            var changed = await App.LastSequence();

            var response = await Host.Get($"/api/v1/models/churn?asOf={Now()}");

            if (!tally.Answer(response, round)) continue;
            Assert.True(Versions(response.Body!["versionsByStage"], stage).SequenceEqual([1]),
                $"round {round}: a stale answer: {response.Body!["versionsByStage"]!.ToJsonString()} (v1 was just moved to {stage})");
            Assert.True(response.Body!["asOfSequence"]!.GetValue<long>() >= changed, $"round {round}: asOfSequence before the change");
        }
        tally.AssertMostlyAnswered(Rounds);
    }

    [Fact]
    public async Task a_version_and_the_version_list_as_of_now_show_the_stage_just_set()
    {
        await A_model_with_a_version();
        var tally = new Tally();
        for (var round = 0; round < Rounds / 2; round++)
        {
            var stage = await Stage_moved(round);

            var version = await Host.Get($"/api/v1/models/churn/versions/1?asOf={Now()}");
            if (tally.Answer(version, round))
                Assert.True(version.Body!["stage"]!.GetValue<string>() == stage, $"round {round}: stale version view {version.Body}");
            var list = await Host.Get($"/api/v1/models/churn/versions?asOf={Now()}");
            if (tally.Answer(list, round))
                Assert.True(list.Body!["items"]![0]!["stage"]!.GetValue<string>() == stage, $"round {round}: stale version list {list.Body}");
        }
        tally.AssertMostlyAnswered(Rounds);
    }

    [Fact]
    public async Task an_alias_as_of_now_names_the_version_it_was_just_moved_to()
    {
        await A_model_with_a_version();
        var tally = new Tally();
        for (var round = 0; round < Rounds / 2; round++)
        {
            var version = round % 2 + 1;
            Assert.Equal(200, (await Host.Put("/api/v1/models/churn/aliases/champion", new { version })).Status);
            await Task.Delay(20);

            var response = await Host.Get($"/api/v1/models/churn/aliases/champion?asOf={Now()}");

            if (tally.Answer(response, round))
                Assert.True(response.Body!["version"]!.GetValue<int>() == version, $"round {round}: stale alias {response.Body}");
        }
        tally.AssertMostlyAnswered(Rounds / 2);
    }

    [Fact]
    public async Task the_registry_as_of_now_shows_the_stage_just_set()
    {
        await A_model_with_a_version();
        var tally = new Tally();
        for (var round = 0; round < Rounds / 2; round++)
        {
            var stage = await Stage_moved(round);

            var response = await Host.Get($"/api/v1/registry?asOf={Now()}");

            if (!tally.Answer(response, round)) continue;
            var churn = response.Body!["items"]!.AsArray().SingleOrDefault(m => m!["model"]!.GetValue<string>() == "churn");
            Assert.True(churn is not null, $"round {round}: the model is missing from the registry: {response.Body}");
            Assert.True(Versions(churn!["versionsByStage"], stage).SequenceEqual([1]), $"round {round}: stale registry {churn.ToJsonString()}");
        }
        tally.AssertMostlyAnswered(Rounds / 2);
    }

    [Fact]
    public async Task the_changes_up_to_now_include_the_change_just_made()
    {
        await A_model_with_a_version();
        var tally = new Tally();
        for (var round = 0; round < Rounds / 2; round++)
        {
            var before = await App.LastSequence();
            var stage = await Stage_moved(round);

            var response = await Host.Get($"/api/v1/registry/changes?from={before}&to={Now()}");

            if (!tally.Answer(response, round)) continue;
            var items = response.Body!["items"]!.AsArray();
            Assert.True(items.Count == 1 && items[0]!["toStage"]!.GetValue<string>() == stage, $"round {round}: the change is missing: {response.Body}");
        }
        tally.AssertMostlyAnswered(Rounds / 2);
    }

    [Fact]
    public async Task a_rollback_to_now_plans_nothing_rather_than_undoing_the_change_just_made()
    {
        await A_model_with_a_version();
        var tally = new Tally();
        for (var round = 0; round < Rounds / 2; round++)
        {
            await Stage_moved(round);
            var length = await Store.StreamLength("churn");

            var model = await Host.Post("/api/v1/models/churn/rollback",
                new { asOf = DateTimeOffset.UtcNow.ToString("O"), reason = "to now", dryRun = true });
            if (tally.Answer(model, round))
                Assert.True(model.Body!["plan"]!.AsArray().Count == 0, $"round {round}: a rollback to now would undo the change: {model.Body}");
            var registry = await Host.Post("/api/v1/registry/rollback",
                new { asOf = DateTimeOffset.UtcNow.ToString("O"), reason = "to now", dryRun = true });
            if (tally.Answer(registry, round))
                Assert.True(registry.Body!["models"]![0]!["plan"]!.AsArray().Count == 0, $"round {round}: a registry rollback to now would undo it: {registry.Body}");
            Assert.Equal(length, await Store.StreamLength("churn"));
        }
        tally.AssertMostlyAnswered(Rounds);
    }

    [Fact]
    public async Task the_audit_log_up_to_now_holds_the_event_just_appended_or_is_refused()
    {
        await A_model_with_a_version();
        var tally = new Tally();
        for (var round = 0; round < Rounds / 2; round++)
        {
            await Stage_moved(round);
            var changed = await App.LastSequence();

            var response = await Host.Get($"/api/v1/audit?model=churn&to={Now()}&limit=1000");

            if (!tally.Answer(response, round)) continue;
            var sequences = response.Body!["items"]!.AsArray().Select(i => i!["sequence"]!.GetValue<long>()).ToList();
            Assert.True(sequences.Contains(changed), $"round {round}: the audit log up to now misses sequence {changed}: {response.Body}");
        }
        tally.AssertMostlyAnswered(Rounds / 2);
    }

    [Fact]
    public async Task an_instant_an_open_transaction_could_still_write_into_is_refused_with_retry_after_and_nothing_appended()
    {
        await A_model_with_a_version();
        await App.WaitForHighWaterMark();
        // A transaction that began before the instant and reserved a sequence number: it could still commit an event
        // stamped before the instant, below anything read now, so no answer about that instant is final yet.
        await using var open = new NpgsqlConnection(App.ConnectionString);
        await open.OpenAsync();
        await using var transaction = await open.BeginTransactionAsync();
        await using (var reserve = new NpgsqlCommand("select nextval('registry.mt_events_sequence_default')", open, transaction))
            await reserve.ExecuteScalarAsync();
        Assert.Equal(200, (await Host.Promote("churn", 1, "Production")).Status);
        var changed = await App.LastSequence();
        var length = await Store.StreamLength("churn");
        var instant = Now();

        // Side by side: each of them waits out the settle wait before it is refused, which one after another took half a minute.
        var reads = new[]
        {
            $"/api/v1/models/churn?asOf={instant}", $"/api/v1/models/churn?atSequence={changed}",
            $"/api/v1/models/churn/versions/1?asOf={instant}", $"/api/v1/models/churn/versions?asOf={instant}",
            $"/api/v1/models/churn/aliases/latest?asOf={instant}", $"/api/v1/registry?asOf={instant}",
            $"/api/v1/registry/changes?to={instant}", $"/api/v1/registry/changes?from={changed}",
            $"/api/v1/audit?to={instant}", $"/api/v1/audit?to={changed}",
            $"/api/v1/models/churn/history?asOf={instant}", $"/api/v1/models/churn/deployments?asOf={instant}",
        }.Select(url => Host.Get(url));
        var rollbacks = new[] { "/api/v1/models/churn/rollback", "/api/v1/registry/rollback" }
            .Select(rollback => Host.Post(rollback, new { asOf = Uri.UnescapeDataString(instant), reason = "not settled" }));
        foreach (var response in await Task.WhenAll(reads.Concat(rollbacks)))
        {
            var problem = response.AssertProblem(503);
            Assert.Equal("Not settled yet", problem["title"]!.GetValue<string>());
            Assert.NotNull(response.Raw.Headers.RetryAfter?.Delta);
        }
        Assert.Equal(length, await Store.StreamLength("churn"));

        await transaction.RollbackAsync();
        // Once the transaction is gone (and the daemon has skipped its dead sequence number) the same instant is answered.
        await App.WaitForHighWaterMark();
        var settled = await Host.Get($"/api/v1/models/churn?asOf={instant}").Ok();
        Assert.Equal([1], Versions(settled.Body!["versionsByStage"], "Production"));
    }

    [Fact]
    public async Task an_instant_well_past_the_registry_clock_is_refused_at_once_as_in_the_future()
    {
        await A_model_with_a_version();
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"));
        var started = DateTime.UtcNow;

        foreach (var url in new[] { $"/api/v1/models/churn?asOf={future}", $"/api/v1/registry?asOf={future}", $"/api/v1/audit?to={future}" })
        {
            var problem = (await Host.Get(url)).AssertProblem(409);
            Assert.Equal("In the future", problem["title"]!.GetValue<string>());
        }
        (await Host.Get($"/api/v1/models/churn?atSequence={await App.LastSequence() + 1000}")).AssertProblem(409);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "a future point is refused without waiting");
    }
}
