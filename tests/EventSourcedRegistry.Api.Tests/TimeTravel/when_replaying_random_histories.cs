using System.Text.Json.Nodes;
using CsCheck;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

/// <summary>
/// Random command sequences against the real store. After every step that appended something, the live view is
/// recorded with the sequence it was taken at; afterwards, for every recorded step, the past is asked three ways —
/// the model replayed by sequence, the model replayed by time, and the registry answered from the intervals view —
/// and all must equal what was recorded.
/// </summary>
// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_replaying_random_histories(AppFixture app) : ApiTest(app)
{
    private sealed record Step(int Kind, int Version, int Pick, bool Flag);

    private static readonly string[] Stages = ["None", "Staging", "Production", "Archived"];
    private static readonly string[] Aliases = ["champion", "challenger"];
    private static readonly string[] Environments = ["production", "canary"];

    private static readonly Gen<Step[]> Histories =
        Gen.Select(Gen.Int[0, 5], Gen.Int[1, 5], Gen.Int[0, 3], Gen.Bool, (kind, version, pick, flag) => new Step(kind, version, pick, flag))
            .Array[8, 24];

    [Fact]
    public void every_past_state_agrees_via_replay_by_sequence_and_by_time_via_the_intervals_and_with_the_recording()
    {
        Histories.Sample(steps => Check(steps).GetAwaiter().GetResult(), iter: 3, threads: 1,
            print: steps => string.Join(" ", steps.Select(s => s.ToString())));
    }

    private async Task Check(Step[] steps)
    {
        await App.ResetAsync();
        await Host.RegisterModel("subject");
        await Host.RegisterModel("bystander");
        var recorded = new List<(long Sequence, JsonObject State)> { (await App.LastSequence(), Relevant(await Host.Model("subject"))) };

        foreach (var step in steps)
        {
            var before = await App.LastSequence();
            await Apply(step);
            var after = await App.LastSequence();
            if (after != before) recorded.Add((after, Relevant(await Host.Model("subject"))));
        }
        await App.WaitForHighWaterMark();

        foreach (var (sequence, expected) in recorded)
        {
            var bySequence = await Host.Get($"/api/v1/models/subject?atSequence={sequence}");
            Assert.True(bySequence.Status == 200, $"atSequence={sequence}: {bySequence.Status} {bySequence.Body}");
            AssertSame(expected, Relevant(bySequence.Body!), $"replay at sequence {sequence}");

            var instant = await App.TimestampOf(sequence);
            var byTime = await Host.Get($"/api/v1/models/subject?asOf={Uri.EscapeDataString(instant.ToString("O"))}");
            Assert.Equal(sequence, byTime.Body!["asOfSequence"]!.GetValue<long>());
            AssertSame(expected, Relevant(byTime.Body!), $"replay as of {instant:O}");

            var registry = await Host.Get($"/api/v1/registry?atSequence={sequence}");
            var fromIntervals = registry.Body!["items"]!.AsArray().Single(i => i!["model"]!.GetValue<string>() == "subject")!;
            AssertSame(expected, Relevant(fromIntervals.AsObject()), $"intervals at sequence {sequence}");
        }
    }

    [Fact]
    public void a_rollback_to_any_recorded_point_restores_its_stages_and_aliases_with_later_versions_in_none()
    {
        Gen.Select(Histories, Gen.Double[0, 1]).Sample(sample => RollBack(sample.Item1, sample.Item2).GetAwaiter().GetResult(),
            iter: 3, threads: 1, print: sample => $"{sample.Item2:F3}: " + string.Join(" ", sample.Item1.Select(s => s.ToString())));
    }

    private async Task RollBack(Step[] steps, double where)
    {
        await App.ResetAsync();
        await Host.RegisterModel("subject");
        var recorded = new List<(long Sequence, JsonNode View)> { (await App.LastSequence(), await Host.Model("subject")) };
        foreach (var step in steps)
        {
            var before = await App.LastSequence();
            await Apply(step);
            if (await App.LastSequence() != before) recorded.Add((await App.LastSequence(), await Host.Model("subject")));
        }
        await App.WaitForHighWaterMark();
        var (target, then) = recorded[(int)Math.Min(recorded.Count - 1, Math.Floor(where * recorded.Count))];

        var response = await Host.Post("/api/v1/models/subject/rollback", new { atSequence = target, reason = "property" });

        Assert.True(response.Status == 200, $"{response.Status} {response.Body}");
        var now = await Host.Model("subject");
        var expectedStages = Sorted(then["versionsByStage"]);
        var later = Enumerable.Range(then["latestVersion"]!.GetValue<int>() + 1,
            now["latestVersion"]!.GetValue<int>() - then["latestVersion"]!.GetValue<int>()).ToList();
        if (later.Count > 0)
        {
            var none = (expectedStages["None"]?.AsArray().Select(v => v!.GetValue<int>()) ?? []).Concat(later).Order();
            expectedStages["None"] = new JsonArray(none.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        }
        AssertSame(new JsonObject { ["stages"] = Sorted(expectedStages), ["aliases"] = Sorted(then["aliases"]) },
            new JsonObject { ["stages"] = Sorted(now["versionsByStage"]), ["aliases"] = Sorted(now["aliases"]) },
            $"rollback to sequence {target}");
    }

    private async Task Apply(Step step)
    {
        var m = "/api/v1/models/subject";
        _ = step.Kind switch
        {
            0 => await Host.Post($"{m}/versions", new { artifact = new { uri = "s3://m/a.bin", sha256 = RegistryCalls.Sha256A } }),
            1 => await Host.Promote("subject", step.Version, Stages[step.Pick], archiveExisting: step.Flag),
            2 => await Host.Send(HttpMethod.Put, $"{m}/aliases/{Aliases[step.Pick % 2]}", new { version = step.Version }),
            3 => await Host.Send(HttpMethod.Delete, $"{m}/aliases/{Aliases[step.Pick % 2]}"),
            4 => await Host.Post($"{m}/deployments", new { version = step.Version, environment = Environments[step.Pick % 2], action = "deployed" }),
            _ => await Host.Post($"{m}/deployments", new { version = step.Version, environment = Environments[step.Pick % 2], action = "undeployed" }),
        };
    }

    /// <summary>The parts of a model's state that time travel answers, in a canonical order.</summary>
    private static JsonObject Relevant(JsonNode view) => new()
    {
        ["versionsByStage"] = Sorted(view["versionsByStage"]),
        ["aliases"] = Sorted(view["aliases"]),
        ["deployments"] = Sorted(view["deployments"]),
    };

    private static JsonObject Sorted(JsonNode? node) =>
        new((node?.AsObject() ?? []).OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));

    private static void AssertSame(JsonObject expected, JsonObject actual, string how) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"{how}: expected {expected.ToJsonString()} but got {actual.ToJsonString()}");
}
