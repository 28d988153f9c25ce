using CsCheck;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;
using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Tests.Models;

/// <summary>
/// Random command sequences run through the decide functions and folded, as the command handlers do; the
/// stream's invariants must hold after every step, whatever was accepted or refused on the way.
/// </summary>
public class when_applying_random_command_sequences
{
    private abstract record Command;
    private sealed record RegisterVersion : Command;
    private sealed record Transition(int Version, string Stage, bool ArchiveExisting) : Command;
    private sealed record AssignAlias(string Alias, int Version) : Command;
    private sealed record RemoveAlias(string Alias) : Command;
    private sealed record Archive : Command;
    private sealed record Restore : Command;

    private static readonly LifecycleGraph Lifecycle = LifecycleGraph.Default;

    // Version 0 and numbers past the latest, unknown stages, other spellings and reserved aliases are all in
    // the mix so that refusals happen as often as acceptances.
    private static readonly Gen<int> AnyVersion = Gen.Int[0, 8];
    private static readonly Gen<string> AnyStage = Gen.OneOf("None", "Staging", "Production", "Archived", "production", "Canary");
    private static readonly Gen<string> AnyAlias = Gen.OneOf("champion", "Champion", "challenger", "shadow", "latest", "v2");

    private static readonly Gen<Command> AnyCommand = Gen.Frequency(new (int, IGen<Command>)[]
    {
        (4, Gen.Const<Command>(new RegisterVersion())),
        (6, Gen.Select(AnyVersion, AnyStage, Gen.Bool, (v, s, a) => (Command)new Transition(v, s, a))),
        (3, Gen.Select(AnyAlias, AnyVersion, (a, v) => (Command)new AssignAlias(a, v))),
        (2, AnyAlias.Select(a => (Command)new RemoveAlias(a))),
        (1, Gen.Const<Command>(new Archive())),
        (1, Gen.Const<Command>(new Restore())),
    });

    private static Decision Decide(ModelView model, Command command) => command switch
    {
        RegisterVersion => ModelDecisions.RegisterVersion(model, Lifecycle, Given.Artifact(model.LatestVersion + 1),
            null, null, null, null, null, null),
        Transition t => ModelDecisions.TransitionStage(model, Lifecycle, t.Version, t.Stage, null, t.ArchiveExisting),
        AssignAlias a => ModelDecisions.AssignAlias(model, a.Alias, a.Version),
        RemoveAlias r => ModelDecisions.RemoveAlias(model, r.Alias),
        Archive => ModelDecisions.Archive(model),
        Restore => ModelDecisions.Restore(model),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, null),
    };

    [Fact]
    public void the_stream_invariants_hold_after_every_step()
    {
        AnyCommand.Array[1, 40].Sample(commands =>
        {
            var model = Given.Model();
            var versionDocs = new Dictionary<string, ModelVersionView>();

            foreach (var command in commands)
            {
                var decision = Decide(model, command);

                if (decision.IsRejected) Assert.Empty(decision.Events);
                foreach (var move in decision.Events.OfType<ModelVersionStageTransitioned>())
                    Assert.True(Lifecycle.Allows(move.FromStage, move.ToStage), $"{command} moved {move.Version} from {move.FromStage} to {move.ToStage}.");

                foreach (var e in decision.Events)
                {
                    model = ModelView.Fold(model, e);
                    foreach (var key in ModelVersionView.KeysOf(e))
                        versionDocs[key] = ModelVersionView.Fold(versionDocs.GetValueOrDefault(key), key, e)!;
                }

                AssertInvariants(model, versionDocs);
            }
        }, iter: 400);
    }

    private static void AssertInvariants(ModelView model, Dictionary<string, ModelVersionView> versionDocs)
    {
        // Versions are exactly 1..latest, each in exactly one stage; stage lists are non-empty and ascending.
        Assert.Equal(Enumerable.Range(1, model.LatestVersion), model.VersionsByStage.Values.SelectMany(v => v).Order());
        Assert.All(model.VersionsByStage, stage =>
        {
            Assert.Contains(stage.Key, Lifecycle.Stages);
            Assert.NotEmpty(stage.Value);
            Assert.Equal(stage.Value.Order(), stage.Value);
        });

        // Every alias names an existing version and none is reserved.
        Assert.All(model.Aliases, alias =>
        {
            Assert.True(model.HasVersion(alias.Value), $"Alias '{alias.Key}' points at missing version {alias.Value}.");
            Assert.False(InputRules.IsReservedAlias(alias.Key));
        });

        // The version documents agree with the model view.
        Assert.Equal(model.LatestVersion, versionDocs.Count);
        Assert.All(versionDocs.Values, doc =>
        {
            Assert.Equal(model.StageOf(doc.VersionNumber), doc.Stage);
            Assert.Equal(model.Aliases.Where(a => a.Value == doc.VersionNumber).Select(a => a.Key).Order(StringComparer.Ordinal), doc.Aliases);
        });
    }
}
