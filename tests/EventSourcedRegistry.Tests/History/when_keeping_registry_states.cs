using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.History;

/// <summary>
/// One fold (<see cref="ModelView.Fold"/>) says what a model holds; the registry-state rows the registry as of a sequence
/// reads and the deployment-history intervals must say the same at every point: the versions in each stage, the aliases,
/// the deployments, the archived flag and the name.
/// </summary>
public sealed class when_keeping_registry_states
{
    private static readonly Guid Model = Guid.NewGuid();
    private static readonly ArtifactReference Artifact = new(null, new string('a', 64), 1);
    private static readonly Dictionary<string, string> NoTags = [];
    private static readonly string[] Stages = ["None", "Staging", "Production", "Archived"];

    private static ModelVersionRegistered Version(int n, string stage = "None") =>
        new(Model, n, stage, Artifact, null, NoTags, new Dictionary<string, double>(), NoTags, null, null);

    private static ModelView Fold(params object[] events) => events.Aggregate((ModelView?)null, ModelView.Fold)!;

    private static string Expanded(string encoded)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            RegistryState.WriteExpanded(json, Encoding.UTF8.GetBytes(encoded));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData("[[1,2147483647]]")] // would count past int.MaxValue: never end
    [InlineData("[[5,1]]")]
    [InlineData("[[0,3]]")]
    [InlineData("[[1,10000001]]")]
    [InlineData("[[1,2,3]]")]
    public void a_damaged_run_is_refused_when_written_out_not_expanded(string runs)
    {
        var encoded = "{\"archived\":false,\"versionsByStage\":{\"None\":" + runs + "},\"aliases\":{},\"deployments\":{}}";

        Assert.ThrowsAny<JsonException>(() => Expanded(encoded));
        Assert.ThrowsAny<JsonException>(() => RegistryState.Decode(encoded));
    }

    [Fact]
    public void consecutive_versions_are_stored_as_runs_and_written_out_one_by_one()
    {
        var view = Fold([
            .. Enumerable.Range(1, 21).Select(n => Version(n)),
            .. Enumerable.Range(1, 16).Append(18).Append(20).Append(21).Select(n => new ModelVersionStageTransitioned(Model, n, "None", "Archived", null)),
            new ModelVersionStageTransitioned(Model, 17, "None", "Production", "best auc"),
            new ModelAliasAssigned(Model, "champion", 17, null),
            new ModelVersionDeployed(Model, 17, "prod", "eu", null),
        ]);

        var encoded = RegistryState.Encode(view);

        Assert.Equal(
            """{"archived":false,"versionsByStage":{"Archived":[[1,16],18,[20,21]],"None":[19],"Production":[17]},"aliases":{"champion":17},"deployments":{"prod/eu":17}}""",
            encoded);
        var expanded = JsonNode.Parse(Expanded(encoded))!;
        Assert.Equal([.. Enumerable.Range(1, 16), 18, 20, 21], expanded["versionsByStage"]!["Archived"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal([19], expanded["versionsByStage"]!["None"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal(17, expanded["aliases"]!["champion"]!.GetValue<int>());
        Assert.Equal(17, expanded["deployments"]!["prod/eu"]!.GetValue<int>());
        Assert.False(expanded["archived"]!.GetValue<bool>());
        Assert.Equal(encoded, RegistryState.Encode(RegistryState.Decode(encoded)));
    }

    [Fact]
    public void only_events_that_change_what_is_held_make_a_row()
    {
        var rows = RegistryStates.Of(Model, new object[]
        {
            new ModelRegistered(Model, "churn", null, NoTags),
            Version(1),
            new ModelRenamed(Model, "churn", "churn-v2"),
            new ModelAliasAssigned(Model, "champion", 1, null),
            new ModelVersionUndeployed(Model, 1, "prod", null), // nothing deployed there: no interval closes
            new ModelVersionDeployed(Model, 1, "prod", null, null),
            new ModelVersionUndeployed(Model, 2, "prod", null), // another version: the slot stays
            new ModelArchived(Model),
            new ModelRestored(Model),
        }.Select((e, i) => (e, (long)(i + 1)))).ToList();

        Assert.Equal([2L, 4, 6, 8, 9], rows.Select(r => r.EnteredSeq));
        Assert.Contains("\"archived\":true", rows[3].State);
        Assert.Equal("""{"archived":false,"versionsByStage":{"None":[1]},"aliases":{"champion":1},"deployments":{"prod":1}}""", rows[4].State);
    }

    [Fact]
    public void an_escaped_alias_or_environment_is_written_back_as_the_same_name()
    {
        var view = Fold(Version(1), new ModelAliasAssigned(Model, "chämpion \"x\"", 1, null));

        var expanded = JsonNode.Parse(Expanded(RegistryState.Encode(view)))!;

        Assert.Equal(1, expanded["aliases"]!["chämpion \"x\""]!.GetValue<int>());
    }

    /// <summary>
    /// A command the decider would allow, turned into its event against the state so far: kinds 0–6 stages, aliases,
    /// deployments and archiving; 7 a version's deletion, 8 a rename, 9 (one in 41) the model's deletion, which ends it.
    /// </summary>
    private static IEnumerable<object> Events(IEnumerable<(int Kind, int A, int B)> steps)
    {
        var versions = new Dictionary<int, string>();
        var aliases = new Dictionary<string, int>();
        var slots = new Dictionary<(string, string?), int>();
        var archived = false;
        var latest = 0;
        var name = "churn";
        yield return new ModelRegistered(Model, name, null, NoTags);
        foreach (var (kind, a, b) in steps)
        {
            var version = versions.Count == 0 ? 0 : versions.Keys.Order().ElementAt(a % versions.Count);
            switch (kind)
            {
                case 0:
                    var n = ++latest;
                    versions[n] = Stages[b % 2 == 0 ? 0 : 1];
                    yield return Version(n, versions[n]);
                    break;
                case 1 when version > 0:
                    var to = Stages[b % Stages.Length];
                    if (to == versions[version]) break;
                    yield return new ModelVersionStageTransitioned(Model, version, versions[version], to, null);
                    versions[version] = to;
                    break;
                case 2 when version > 0:
                    var alias = b % 2 == 0 ? "champion" : "challenger";
                    int? previous = aliases.TryGetValue(alias, out var held) ? held : null;
                    if (previous == version) break;
                    aliases[alias] = version;
                    yield return new ModelAliasAssigned(Model, alias, version, previous);
                    break;
                case 3 when aliases.Count > 0:
                    var removed = aliases.Keys.OrderBy(k => k).ElementAt(b % aliases.Count);
                    yield return new ModelAliasRemoved(Model, removed, aliases[removed]);
                    aliases.Remove(removed);
                    break;
                case 4 when version > 0:
                    var slot = (b % 2 == 0 ? "prod" : "staging", b % 3 == 0 ? null : "eu");
                    int? before = slots.TryGetValue(slot, out var deployed) ? deployed : null;
                    if (before == version) break;
                    slots[slot] = version;
                    yield return new ModelVersionDeployed(Model, version, slot.Item1, slot.Item2, before);
                    break;
                case 5 when slots.Count > 0:
                    var gone = slots.Keys.OrderBy(k => k.Item1 + k.Item2).ElementAt(b % slots.Count);
                    yield return new ModelVersionUndeployed(Model, slots[gone], gone.Item1, gone.Item2);
                    slots.Remove(gone);
                    break;
                case 6:
                    yield return archived ? new ModelRestored(Model) : new ModelArchived(Model);
                    archived = !archived;
                    break;
                case 7 when version > 0:
                    // Whatever the version holds goes with it: its stage, its aliases, its deployments.
                    yield return new ModelVersionDeleted(Model, version, versions[version], b % 2 == 0 ? "retired" : null);
                    versions.Remove(version);
                    foreach (var (k, _) in aliases.Where(p => p.Value == version).ToList()) aliases.Remove(k);
                    foreach (var (k, _) in slots.Where(p => p.Value == version).ToList()) slots.Remove(k);
                    break;
                case 8:
                    var renamed = $"churn-{b}";
                    if (renamed == name) break;
                    yield return new ModelRenamed(Model, name, renamed);
                    name = renamed;
                    break;
                case 9 when b == 0:
                    yield return new ModelDeleted(Model, name, latest, "gone");
                    yield break;
            }
        }
    }

    /// <summary>What the intervals open at <paramref name="sequence"/> say, in the response's shape.</summary>
    private static JsonObject HeldAt(IntervalFold fold, long sequence)
    {
        var held = fold.Rows.Where(r => r.EnteredSeq <= sequence && (r.LeftSeq is null || r.LeftSeq > sequence)).ToList();
        var stages = new JsonObject();
        foreach (var g in held.Where(r => r.Kind == DeploymentHistory.Kinds.Stage).GroupBy(r => r.Subject).OrderBy(g => g.Key, StringComparer.Ordinal))
            stages[g.Key] = new JsonArray(g.Select(r => (JsonNode)r.Version!.Value).OrderBy(v => v.GetValue<int>()).ToArray());
        JsonObject Map(string kind, Func<IntervalRow, string> key)
        {
            var map = new JsonObject();
            foreach (var r in held.Where(r => r.Kind == kind).OrderBy(key, StringComparer.Ordinal)) map[key(r)] = r.Version!.Value;
            return map;
        }
        return new JsonObject
        {
            ["archived"] = held.Any(r => r.Kind == DeploymentHistory.Kinds.Archived),
            ["versionsByStage"] = stages,
            ["aliases"] = Map(DeploymentHistory.Kinds.Alias, r => r.Subject),
            ["deployments"] = Map(DeploymentHistory.Kinds.Deployment, r => ModelView.SlotOf(r.Subject, r.Target)),
        };
    }

    [Fact]
    public void at_every_sequence_the_last_row_says_what_the_open_intervals_say()
    {
        // Kinds 0–8: every event but the model's deletion, after which the intervals hold nothing and the rows keep the last state.
        Gen.Select(Gen.Int[0, 8], Gen.Int[0, 40], Gen.Int[0, 40]).Array[1, 80].Sample(steps =>
        {
            var events = Events(steps).ToList();
            var fold = new IntervalFold();
            for (var i = 0; i < events.Count; i++) fold.Apply(events[i], i + 1, DateTime.UnixEpoch.AddSeconds(i), "alice", null);
            var rows = RegistryStates.Of(Model, events.Select((e, i) => (e, (long)(i + 1)))).ToList();

            for (long sequence = 1; sequence <= events.Count; sequence++)
            {
                var row = rows.LastOrDefault(r => r.EnteredSeq <= sequence);
                var stored = Expanded(row?.State ?? RegistryState.Empty);
                var expected = HeldAt(fold, sequence).ToJsonString();
                if (stored != expected)
                    throw new Xunit.Sdk.XunitException($"at sequence {sequence}: rows say {stored}, intervals say {expected}");
                if (row is not null && RegistryState.Encode(RegistryState.Decode(row.State)) != row.State)
                    throw new Xunit.Sdk.XunitException($"at sequence {sequence}: {row.State} does not read back as itself");
            }
        }, iter: 300);
    }

    [Fact]
    public void rows_folded_on_from_any_stored_row_are_the_rows_of_the_whole_history()
    {
        // The inline projection folds an append into the state decoded from the model's last row (or from the state the
        // command decided against, encoded as a row would hold it): from any point, the rows that follow must be the
        // rows the whole history yields.
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 40], Gen.Int[0, 40]).Array[1, 60].Sample(steps =>
        {
            var events = Events(steps).Select((e, i) => (e, (long)(i + 1))).ToList();
            var whole = RegistryStates.Of(Model, events).ToList();
            ModelView? view = null;
            for (var cut = 0; cut < events.Count; cut++)
            {
                view = ModelView.Fold(view, events[cut].e);
                var stored = whole.LastOrDefault(r => r.EnteredSeq <= cut + 1)?.State ?? RegistryState.Empty;
                foreach (var start in new[] { stored, RegistryState.Encode(view) })
                {
                    var rows = new RegistryStateRows(Model, start);
                    var state = RegistryState.Decode(start);
                    var after = events.Skip(cut + 1).Select(e => rows.After(e.e, ModelView.Fold(state, e.e), e.Item2)).OfType<RegistryStateRow>().ToList();
                    var expected = whole.Where(r => r.EnteredSeq > cut + 1);
                    if (!after.SequenceEqual(expected))
                        throw new Xunit.Sdk.XunitException($"from {start} after sequence {cut + 1}: {string.Join(", ", after)} instead of {string.Join(", ", expected)}");
                }
            }
        }, iter: 100);
    }

    /// <summary>What <paramref name="view"/> holds, in the response's shape (as <see cref="HeldAt"/> reads it from the intervals).</summary>
    private static JsonObject Holds(ModelView view)
    {
        var stages = new JsonObject();
        foreach (var (stage, versions) in view.VersionsByStage.OrderBy(p => p.Key, StringComparer.Ordinal))
            stages[stage] = new JsonArray(versions.Order().Select(v => (JsonNode)v).ToArray());
        JsonObject Map(Dictionary<string, int> map)
        {
            var json = new JsonObject();
            foreach (var (key, version) in map.OrderBy(p => p.Key, StringComparer.Ordinal)) json[key] = version;
            return json;
        }
        return new JsonObject
        {
            ["archived"] = view.Archived, ["versionsByStage"] = stages, ["aliases"] = Map(view.Aliases), ["deployments"] = Map(view.Deployments),
        };
    }

    [Fact]
    public void at_every_sequence_the_intervals_the_rows_and_the_snapshots_say_what_the_one_fold_says()
    {
        // Issue 17, "one fold": ModelView.Fold is the statement of the rules; the deployment-history intervals (applied from
        // IntervalTransition), the registry-state rows the registry as of a sequence reads, and a model view read as of a
        // sequence from its nearest snapshot must all agree with it after every event of any history, deletions included;
        // so must the version views, each folded on its own.
        const int SnapshotEvery = 7;
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 40], Gen.Int[0, 40]).Array[1, 80].Sample(steps =>
        {
            var events = Events(steps).ToList();
            var intervals = new IntervalFold();
            var folded = new List<string>(); // the one fold's view after each event, serialized as a snapshot is
            var versionViews = new Dictionary<string, ModelVersionView>();
            ModelView? view = null;
            for (var i = 0; i < events.Count; i++)
            {
                view = ModelView.Fold(view, events[i]);
                intervals.Apply(events[i], i + 1, DateTime.UnixEpoch.AddSeconds(i), "alice", null);
                folded.Add(ModelSnapshots.Serialize(view));
                foreach (var key in ModelVersionView.KeysOf(events[i]))
                    if (ModelVersionView.Fold(versionViews.GetValueOrDefault(key), key, events[i]) is { } versionView) versionViews[key] = versionView;
                    else versionViews.Remove(key);
                var expected = view.Deleted ? Enumerable.Empty<string>() : Enumerable.Range(1, view.LatestVersion).Where(view.HasVersion)
                    .Select(v => $"{v} {view.StageOf(v)} [{string.Join(",", view.Aliases.Where(a => a.Value == v).Select(a => a.Key).Order(StringComparer.Ordinal))}]" +
                                 $" [{string.Join(",", view.Deployments.Where(d => d.Value == v).Select(d => d.Key).Order(StringComparer.Ordinal))}]");
                var said = versionViews.Values.OrderBy(v => v.VersionNumber)
                    .Select(v => $"{v.VersionNumber} {v.Stage} [{string.Join(",", v.Aliases)}] [{string.Join(",", v.Deployments)}]");
                if (!said.SequenceEqual(expected))
                    throw new Xunit.Sdk.XunitException($"at sequence {i + 1}: the version views say {string.Join("; ", said)}, the fold says {string.Join("; ", expected)}");
            }
            var rows = RegistryStates.Of(Model, events.Select((e, i) => (e, (long)(i + 1)))).ToList();

            for (var sequence = 1; sequence <= events.Count; sequence++)
            {
                var then = ModelSnapshots.Deserialize(folded[sequence - 1]);
                void Agree(string what, string said, string expected)
                {
                    if (said != expected)
                        throw new Xunit.Sdk.XunitException($"at sequence {sequence}: {what} say {said}, the fold says {expected}");
                }

                // A deleted model holds no interval; its rows keep what it held (no read lists it: its name interval is closed).
                Agree("the intervals", HeldAt(intervals, sequence).ToJsonString(), Holds(then.Deleted ? new ModelView() : then).ToJsonString());
                Agree("the name intervals", string.Join(",", intervals.Rows.Where(r => r.Kind == DeploymentHistory.Kinds.Name
                    && r.EnteredSeq <= sequence && (r.LeftSeq is null || r.LeftSeq > sequence)).Select(r => r.Subject)), then.Deleted ? "" : then.Name);
                Agree("the rows", Expanded(rows.LastOrDefault(r => r.EnteredSeq <= sequence)?.State ?? RegistryState.Empty), Holds(then).ToJsonString());

                // As of a sequence: the nearest snapshot at or below it, the events after it folded on.
                var snapshotAt = sequence / SnapshotEvery * SnapshotEvery;
                var replayed = snapshotAt == 0 ? null : ModelSnapshots.Deserialize(folded[snapshotAt - 1]);
                for (var i = snapshotAt; i < sequence; i++) replayed = ModelView.Fold(replayed, events[i]);
                if (!JsonNode.DeepEquals(JsonNode.Parse(ModelSnapshots.Serialize(replayed!)), JsonNode.Parse(folded[sequence - 1])))
                    Agree("the snapshot and the events after it", ModelSnapshots.Serialize(replayed!), folded[sequence - 1]);
            }
        }, iter: 300);
    }
}
