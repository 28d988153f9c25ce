using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

/// <summary><c>archiveExisting</c>: the other versions in the target stage go to the archive stage in the same decision.</summary>
public class when_promoting_a_model_version
{
    private static Decision Promote(ModelView model, int version, bool archiveExisting, string stage = LifecycleGraph.Production,
        LifecycleGraph? lifecycle = null) =>
        ModelDecisions.TransitionStage(model, lifecycle ?? LifecycleGraph.Default, version, stage, "Better AUC.", archiveExisting);

    [Fact]
    public void archive_existing_moves_the_old_production_version_to_archived()
    {
        var model = Given.Model(versions: 2).InStage(1, LifecycleGraph.Production).InStage(2, LifecycleGraph.Staging);

        var decision = Promote(model, 2, archiveExisting: true);

        DecisionAssert.Accepted(decision,
            new ModelVersionStageTransitioned(Given.ModelId, 2, LifecycleGraph.Staging, LifecycleGraph.Production, "Better AUC."),
            new ModelVersionStageTransitioned(Given.ModelId, 1, LifecycleGraph.Production, LifecycleGraph.Archived,
                "Archived because version 2 entered Production."));
    }

    [Fact]
    public void archive_existing_archives_every_other_version_in_the_target_stage_and_only_those()
    {
        var model = Given.Model(versions: 6)
            .InStage(1, LifecycleGraph.Production).InStage(2, LifecycleGraph.Production).InStage(4, LifecycleGraph.Production)
            .InStage(3, LifecycleGraph.Staging).InStage(5, LifecycleGraph.Archived);

        var decision = Promote(model, 6, archiveExisting: true);

        var moves = decision.Events.Cast<ModelVersionStageTransitioned>().ToList();
        Assert.Equal(decision.Events.Count, moves.Count);
        Assert.Equal((6, LifecycleGraph.None, LifecycleGraph.Production), (moves[0].Version, moves[0].FromStage, moves[0].ToStage));
        Assert.Equal([1, 2, 4], moves.Skip(1).Select(m => m.Version).Order());
        Assert.All(moves.Skip(1), m => Assert.Equal((LifecycleGraph.Production, LifecycleGraph.Archived), (m.FromStage, m.ToStage)));

        model = model.Apply(decision);
        Assert.Equal([6], model.VersionsByStage[LifecycleGraph.Production]);
        Assert.Equal([3], model.VersionsByStage[LifecycleGraph.Staging]);
        Assert.Equal([1, 2, 4, 5], model.VersionsByStage[LifecycleGraph.Archived]);
        Assert.False(model.VersionsByStage.ContainsKey(LifecycleGraph.None));
    }

    [Fact]
    public void without_archive_existing_the_other_production_versions_stay()
    {
        var model = Given.Model(versions: 2).InStage(1, LifecycleGraph.Production);

        var decision = Promote(model, 2, archiveExisting: false);

        Assert.Single(decision.Events);
        Assert.Equal([1, 2], model.Apply(decision).VersionsByStage[LifecycleGraph.Production]);
    }

    [Fact]
    public void archive_existing_into_an_empty_stage_records_only_the_promotion()
    {
        var model = Given.Model(versions: 2).InStage(1, LifecycleGraph.Staging);

        Assert.Single(Promote(model, 2, archiveExisting: true).Events);
    }

    [Fact]
    public void archive_existing_when_archiving_a_version_moves_no_other_archived_version()
    {
        var model = Given.Model(versions: 2).InStage(1, LifecycleGraph.Archived);

        var decision = Promote(model, 2, archiveExisting: true, stage: LifecycleGraph.Archived);

        Assert.Equal(2, DecisionAssert.Single<ModelVersionStageTransitioned>(decision).Version);
    }

    [Fact]
    public void a_refused_promotion_archives_nothing()
    {
        var model = Given.Model(versions: 2).InStage(1, LifecycleGraph.Production).InStage(2, LifecycleGraph.Archived);

        DecisionAssert.Rejected(Promote(model, 2, archiveExisting: true), RejectionKind.Conflict);
    }

    // Bug: a version already in the target stage returns Unchanged before archiveExisting is looked at, so the
    // other versions in that stage stay there although the caller asked for them to be archived.
    [Fact]
    public void archive_existing_on_a_version_already_in_the_stage_still_archives_the_others()
    {
        var model = Given.Model(versions: 2).InStage(1, LifecycleGraph.Production).InStage(2, LifecycleGraph.Production);

        var decision = Promote(model, 2, archiveExisting: true);

        Assert.False(decision.IsRejected, decision.Rejection?.Detail);
        model = model.Apply(decision);
        Assert.Equal([2], model.VersionsByStage[LifecycleGraph.Production]);
        Assert.Equal(LifecycleGraph.Archived, model.StageOf(1));
    }

    // Bug: the displaced versions are sent to the archive stage without asking the lifecycle, so a configured
    // graph in which the target stage may not go to the archive stage is bypassed.
    [Fact]
    public void archive_existing_never_records_a_move_the_configured_lifecycle_forbids()
    {
        var lifecycle = LifecycleGraph.From(new LifecycleOptions
        {
            Stages = ["Draft", "Live", "Retired"],
            Transitions = new() { ["Draft"] = ["Live", "Retired"], ["Live"] = ["Draft"], ["Retired"] = ["Draft"] },
        });
        var model = Given.Model(versions: 2, lifecycle).InStage(1, "Live", lifecycle);

        var decision = Promote(model, 2, archiveExisting: true, stage: "Live", lifecycle: lifecycle);

        Assert.All(decision.Events.Cast<ModelVersionStageTransitioned>(), move =>
            Assert.True(lifecycle.Allows(move.FromStage, move.ToStage),
                $"The decision moves version {move.Version} from {move.FromStage} to {move.ToStage}, which the lifecycle forbids."));
    }
}
