using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_transitioning_a_model_version_stage
{
    private static Decision Transition(ModelView model, int version, string stage, string? reason = null) =>
        ModelDecisions.TransitionStage(model, LifecycleGraph.Default, version, stage, reason, archiveExisting: false);

    [Fact]
    public void the_move_is_recorded_with_from_to_and_reason()
    {
        var decision = Transition(Given.Model(versions: 2), 2, LifecycleGraph.Staging, "Passed offline evaluation.");

        DecisionAssert.Accepted(decision, new ModelVersionStageTransitioned(Given.ModelId, 2, LifecycleGraph.None,
            LifecycleGraph.Staging, "Passed offline evaluation."));
    }

    [Theory]
    [InlineData("production")]
    [InlineData("PRODUCTION")]
    [InlineData("pRoDuCtIoN")]
    public void the_stage_is_matched_regardless_of_case_and_recorded_as_configured(string given)
    {
        var moved = DecisionAssert.Single<ModelVersionStageTransitioned>(Transition(Given.Model(versions: 1), 1, given));

        Assert.Equal(LifecycleGraph.Production, moved.ToStage);
    }

    [Fact]
    public void moving_to_the_stage_the_version_is_in_changes_nothing()
    {
        var model = Given.Model(versions: 1).InStage(1, LifecycleGraph.Staging);

        DecisionAssert.Unchanged(Transition(model, 1, "staging"));
    }

    [Fact]
    public void an_unknown_stage_is_invalid_and_the_detail_names_it_and_lists_the_stages()
    {
        var rejection = DecisionAssert.Rejected(Transition(Given.Model(versions: 1), 1, "Canary"), RejectionKind.Invalid, "'Canary'");

        Assert.All(LifecycleGraph.Default.Stages, stage => Assert.Contains(stage, rejection.Detail));
    }

    [Fact]
    public void an_unknown_version_is_not_found_and_the_detail_names_it()
    {
        DecisionAssert.Rejected(Transition(Given.Model(versions: 3), 4, LifecycleGraph.Staging),
            RejectionKind.NotFound, "version 4", "1 to 3");
    }

    [Fact]
    public void a_move_the_lifecycle_forbids_is_a_conflict_that_says_where_the_version_may_go()
    {
        var model = Given.Model(versions: 1).InStage(1, LifecycleGraph.Archived);

        var rejection = DecisionAssert.Rejected(Transition(model, 1, LifecycleGraph.Production), RejectionKind.Conflict,
            "version 1", LifecycleGraph.Archived, LifecycleGraph.Production);

        Assert.EndsWith($"may go to: {LifecycleGraph.None}.", rejection.Detail);
    }

    [Fact]
    public void an_archived_version_may_go_back_to_none_and_from_there_to_production()
    {
        var model = Given.Model(versions: 1).InStage(1, LifecycleGraph.Archived).InStage(1, LifecycleGraph.None);

        var moved = DecisionAssert.Single<ModelVersionStageTransitioned>(Transition(model, 1, LifecycleGraph.Production));

        Assert.Equal((LifecycleGraph.None, LifecycleGraph.Production), (moved.FromStage, moved.ToStage));
    }

    [Fact]
    public void the_folded_model_has_the_version_in_its_new_stage_only()
    {
        var model = Given.Model(versions: 3).Then(m => Transition(m, 2, LifecycleGraph.Production));

        Assert.Equal(LifecycleGraph.Production, model.StageOf(2));
        Assert.Equal([1, 3], model.VersionsByStage[LifecycleGraph.None]);
        Assert.Equal([2], model.VersionsByStage[LifecycleGraph.Production]);
    }
}
