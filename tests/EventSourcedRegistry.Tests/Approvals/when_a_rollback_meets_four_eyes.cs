using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Approvals;

/// <summary>
/// Issue 13, item 5: a rollback performs its moves at once, so before, a contributor could put any earlier version back
/// into Production or move champion with no approval at all. A plan that enters a protected stage or moves a protected
/// alias is now refused, pointing at the approval flow; leaving or removing stays allowed.
/// </summary>
public class when_a_rollback_meets_four_eyes
{
    private static readonly ApprovalPolicy Default = ApprovalPolicy.Default;

    private static ModelView Copy(ModelView model) =>
        System.Text.Json.JsonSerializer.Deserialize<ModelView>(System.Text.Json.JsonSerializer.Serialize(model))!;

    private static (IReadOnlyList<RollbackChange> Plan, Decision Decision) Gate(ModelView now, ModelView then, ApprovalPolicy policy)
    {
        var (plan, decision) = RollbackPlanner.Plan(now, then, LifecycleGraph.Default, 42, null, "undo");
        return ApprovalDecisions.GateRollback(now, policy, plan, decision);
    }

    [Fact]
    public void putting_a_version_back_into_a_protected_stage_is_refused_and_marked()
    {
        var then = Given.Model(versions: 2).InStage(1, LifecycleGraph.Production);
        var now = Copy(then).InStage(1, LifecycleGraph.Archived).InStage(2, LifecycleGraph.Staging);

        var (plan, decision) = Gate(now, then, Default);

        var refusal = DecisionAssert.Rejected(decision, RejectionKind.Conflict, "version 1: Archived → Production", "/approve");
        Assert.Equal(ApprovalDecisions.ApprovalRequired, refusal.Title);
        Assert.Equal([true, false], plan.OrderBy(c => c.Version).Select(c => c.RequiresApproval));
        Assert.Single((IEnumerable<RollbackChange>)refusal.Extensions!["changesNeedingApproval"]!);
    }

    [Fact]
    public void moving_a_protected_alias_back_is_refused_but_removing_it_is_not()
    {
        var then = Given.Model(versions: 2).WithAlias("champion", 1);
        var moved = Copy(then).WithAlias("champion", 2);
        var (_, refused) = Gate(moved, then, Default);
        DecisionAssert.Rejected(refused, RejectionKind.Conflict, "alias champion → version 1");

        var before = Given.Model(versions: 2);
        var assigned = Copy(before).WithAlias("champion", 2);
        var (plan, removal) = Gate(assigned, before, Default);
        Assert.False(removal.IsRejected);
        Assert.False(Assert.Single(plan).RequiresApproval);
    }

    [Fact]
    public void leaving_a_protected_stage_needs_no_approval()
    {
        var then = Given.Model(versions: 2).InStage(1, LifecycleGraph.Staging);
        var now = Copy(then).InStage(2, LifecycleGraph.Production);

        var (plan, decision) = Gate(now, then, Default);

        Assert.False(decision.IsRejected);
        Assert.DoesNotContain(plan, c => c.RequiresApproval);
        Assert.Equal(LifecycleGraph.None, now.Apply(decision).StageOf(2));
    }

    [Fact]
    public void without_protected_stages_and_aliases_every_rollback_acts()
    {
        var then = Given.Model(versions: 1).InStage(1, LifecycleGraph.Production).WithAlias("champion", 1);
        var now = Copy(then).InStage(1, LifecycleGraph.Archived).WithAlias("champion", 1);

        var (plan, decision) = Gate(now, then, ApprovalPolicy.None);

        Assert.False(decision.IsRejected);
        Assert.DoesNotContain(plan, c => c.RequiresApproval);
    }
}
