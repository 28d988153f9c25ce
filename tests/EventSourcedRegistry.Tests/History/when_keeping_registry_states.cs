using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.History;

/// <summary>
/// The registry-state rows the registry as of a sequence reads must say what the deployment-history intervals say:
/// the versions in each stage, the aliases, the deployments and the archived flag held at every point.
/// </summary>
public sealed class when_keeping_registry_states
{
    private static readonly Guid Model = Guid.NewGuid();
    private static readonly ArtifactReference Artifact = new(null, new string('a', 64), 1);
    private static readonly Dictionary<string, string> NoTags = [];
    private static readonly string[] Stages = ["None", "Staging", "Production", "Archived"];

    private static ModelVersionRegistered Version(int n, string stage = "None") =>
        new(Model, n, stage, Artifact, null, NoTags, new Dictionary<string, double>(), NoTags, null, null);

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

    [Fact]
    public void consecutive_versions_are_stored_as_runs_and_written_out_one_by_one()
    {
        var state = new RegistryState();
        foreach (var n in Enumerable.Range(1, 21)) state.Apply(Version(n));
        foreach (var n in Enumerable.Range(1, 16).Append(18).Append(20).Append(21))
            state.Apply(new ModelVersionStageTransitioned(Model, n, "None", "Archived", null));
        state.Apply(new ModelVersionStageTransitioned(Model, 17, "None", "Production", "best auc"));
        state.Apply(new ModelAliasAssigned(Model, "champion", 17, null));
        state.Apply(new ModelVersionDeployed(Model, 17, "prod", "eu", null));

        var encoded = state.Encode();

        Assert.Equal(
            """{"archived":false,"versionsByStage":{"Archived":[[1,16],18,[20,21]],"None":[19],"Production":[17]},"aliases":{"champion":17},"deployments":{"prod/eu":17}}""",
            encoded);
        var expanded = JsonNode.Parse(Expanded(encoded))!;
        Assert.Equal([.. Enumerable.Range(1, 16), 18, 20, 21], expanded["versionsByStage"]!["Archived"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal([19], expanded["versionsByStage"]!["None"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal(17, expanded["aliases"]!["champion"]!.GetValue<int>());
        Assert.Equal(17, expanded["deployments"]!["prod/eu"]!.GetValue<int>());
        Assert.False(expanded["archived"]!.GetValue<bool>());
        Assert.Equal(encoded, RegistryState.Decode(encoded).Encode());
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
        var state = new RegistryState();
        state.Apply(Version(1));
        state.Apply(new ModelAliasAssigned(Model, "chämpion \"x\"", 1, null));

        var expanded = JsonNode.Parse(Expanded(state.Encode()))!;

        Assert.Equal(1, expanded["aliases"]!["chämpion \"x\""]!.GetValue<int>());
    }

    /// <summary>A command the decider would allow, turned into its event against the state so far.</summary>
    private static IEnumerable<object> Events(IEnumerable<(int Kind, int A, int B)> steps)
    {
        var versions = new Dictionary<int, string>();
        var aliases = new Dictionary<string, int>();
        var slots = new Dictionary<(string, string?), int>();
        var archived = false;
        yield return new ModelRegistered(Model, "churn", null, NoTags);
        foreach (var (kind, a, b) in steps)
        {
            var version = versions.Count == 0 ? 0 : a % versions.Count + 1;
            switch (kind)
            {
                case 0:
                    var n = versions.Count + 1;
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
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 40], Gen.Int[0, 40]).Array[1, 80].Sample(steps =>
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
                if (row is not null && RegistryState.Decode(row.State).Encode() != row.State)
                    throw new Xunit.Sdk.XunitException($"at sequence {sequence}: {row.State} does not read back as itself");
            }
        }, iter: 300);
    }

    [Fact]
    public void the_state_a_model_view_holds_is_the_state_its_events_fold_to_at_every_point()
    {
        // The inline projection starts from RegistryState.Of(the view a command decided against) instead of the model's
        // last row (issue 17): both must be the same state after any history.
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 40], Gen.Int[0, 40]).Array[1, 80].Sample(steps =>
        {
            ModelView? view = null;
            var folded = new RegistryState();
            foreach (var e in Events(steps))
            {
                view = ModelView.Fold(view, e);
                folded.Apply(e);
                var taken = RegistryState.Of(view).Encode();
                if (taken != folded.Encode())
                    throw new Xunit.Sdk.XunitException($"after {e}: the view holds {taken}, the events fold to {folded.Encode()}");
            }
        }, iter: 300);
    }
}
