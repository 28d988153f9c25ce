using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_planning_a_rollback
{
    private static ModelView Copy(ModelView model) =>
        System.Text.Json.JsonSerializer.Deserialize<ModelView>(System.Text.Json.JsonSerializer.Serialize(model))!;

    [Fact]
    public void stages_and_aliases_return_to_the_target_and_later_versions_to_the_initial_stage()
    {
        var then = Given.Model(versions: 1).InStage(1, LifecycleGraph.Production).WithAlias("champion", 1);
        var now = Copy(then).RegisterVersion().RegisterVersion()
            .Then(m => ModelDecisions.TransitionStage(m, LifecycleGraph.Default, 3, LifecycleGraph.Production, null, archiveExisting: true))
            .WithAlias("champion", 3).WithAlias("challenger", 2);

        var (plan, decision) = RollbackPlanner.Plan(now, then, LifecycleGraph.Default, 42, null, "v3 broke checkout");
        var after = now.Apply(decision);

        Assert.Equal([1], after.VersionsByStage[LifecycleGraph.Production]);
        Assert.Equal([2, 3], after.VersionsByStage[LifecycleGraph.None]);
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, after.Aliases);
        var performed = Assert.IsType<RollbackPerformed>(decision.Events[0]);
        Assert.Equal((42L, "v3 broke checkout", plan.Count), (performed.TargetSequence, performed.Reason, performed.Changes));
        Assert.Equal(decision.Events.Count - 1, plan.Count);
    }

    [Fact]
    public void a_second_identical_rollback_has_an_empty_plan_and_appends_nothing()
    {
        var then = Given.Model(versions: 2).InStage(1, LifecycleGraph.Production);
        var now = Copy(then).InStage(2, LifecycleGraph.Production);
        var (_, first) = RollbackPlanner.Plan(now, then, LifecycleGraph.Default, 7, null, "undo");

        var (plan, again) = RollbackPlanner.Plan(now.Apply(first), then, LifecycleGraph.Default, 7, null, "undo");

        Assert.Empty(plan);
        DecisionAssert.Unchanged(again);
    }

    [Fact]
    public void it_restores_a_stage_the_lifecycle_would_not_allow_as_a_single_move()
    {
        var then = Given.Model(versions: 1).InStage(1, LifecycleGraph.Production);
        var now = Copy(then).InStage(1, LifecycleGraph.Archived);

        var (_, decision) = RollbackPlanner.Plan(now, then, LifecycleGraph.Default, 3, null, "archived by mistake");

        var move = decision.Events.OfType<ModelVersionStageTransitioned>().Single();
        Assert.Equal((LifecycleGraph.Archived, LifecycleGraph.Production), (move.FromStage, move.ToStage));
        Assert.Contains("archived by mistake", move.Reason);
    }

    [Fact]
    public void rolling_back_to_before_the_model_existed_clears_stages_and_aliases()
    {
        var now = Given.Model(versions: 2).InStage(2, LifecycleGraph.Staging).WithAlias("champion", 2);

        var (_, decision) = RollbackPlanner.Plan(now, null, LifecycleGraph.Default, 0, null, "start over");
        var after = now.Apply(decision);

        Assert.Equal([1, 2], after.VersionsByStage[LifecycleGraph.None]);
        Assert.Empty(after.Aliases);
    }

    [Fact]
    public void an_archived_model_is_refused()
    {
        var now = Given.Model(versions: 1).Archived();

        var (_, decision) = RollbackPlanner.Plan(now, Given.Model(versions: 1), LifecycleGraph.Default, 1, null, "x");

        DecisionAssert.Rejected(decision, RejectionKind.Conflict, "archived");
    }
}
