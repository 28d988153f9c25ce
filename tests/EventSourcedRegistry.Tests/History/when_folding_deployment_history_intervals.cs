using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.History;

/// <summary>The in-memory interval fold a rebuild uses must open and close the rows the inline projection's SQL does.</summary>
public sealed class when_folding_deployment_history_intervals
{
    private static readonly Guid Model = Guid.NewGuid();
    private static readonly DateTime T0 = new(2026, 1, 1, 9, 0, 0, DateTimeKind.Utc);
    private static readonly ArtifactReference Artifact = new(null, new string('a', 64), 1);
    private static readonly Dictionary<string, string> NoTags = [];

    private static ModelVersionRegistered Version(int n) =>
        new(Model, n, "None", Artifact, null, NoTags, new Dictionary<string, double>(), NoTags, null, null);

    private static IntervalFold Fold(params object[] events)
    {
        var fold = new IntervalFold();
        for (var i = 0; i < events.Length; i++)
            fold.Apply(events[i], i + 1, T0.AddMinutes(i), "alice", i % 2 == 0 ? "header reason" : null);
        return fold;
    }

    [Fact]
    public void a_stage_transition_closes_the_version_s_stage_and_opens_the_next_with_the_event_s_own_reason()
    {
        var fold = Fold(new ModelRegistered(Model, "churn", null, NoTags), Version(1), Version(2),
            new ModelVersionStageTransitioned(Model, 1, "None", "Production", "approved"));

        var stages = fold.Rows.Where(r => r.Kind == DeploymentHistory.Kinds.Stage).ToList();
        Assert.Equal(3, stages.Count);
        var closed = stages.Single(r => r.Version == 1 && r.Subject == "None");
        Assert.Equal((4L, "approved", "alice"), (closed.LeftSeq!.Value, closed.LeftReason!, closed.LeftBy!));
        Assert.Equal(T0.AddMinutes(3), closed.LeftAt);
        Assert.Null(stages.Single(r => r.Version == 2).LeftSeq);
        var production = stages.Single(r => r.Subject == "Production");
        Assert.Equal((1, 4L, "approved", (long?)null), (production.Version!.Value, production.EnteredSeq, production.EnteredReason!, production.LeftSeq));
    }

    [Fact]
    public void reassigning_an_alias_closes_its_open_row_whatever_version_it_held_and_the_header_reason_fills_in()
    {
        var fold = Fold(new ModelRegistered(Model, "churn", null, NoTags), Version(1), Version(2),
            new ModelAliasAssigned(Model, "champion", 1, null), new ModelAliasAssigned(Model, "champion", 2, 1),
            new ModelAliasRemoved(Model, "champion", 2));

        var aliases = fold.Rows.Where(r => r.Kind == DeploymentHistory.Kinds.Alias).OrderBy(r => r.EnteredSeq).ToList();
        Assert.Equal([(1, 4L, 5L), (2, 5L, 6L)], aliases.Select(r => (r.Version!.Value, r.EnteredSeq, r.LeftSeq!.Value)));
        Assert.Equal("header reason", aliases[1].EnteredReason); // sequence 5: the projection's coalesce(null, headers ->> 'reason')
        Assert.Null(aliases[0].EnteredReason);
    }

    [Fact]
    public void a_rename_moves_the_name_and_deployments_close_per_slot()
    {
        var fold = Fold(new ModelRegistered(Model, "churn", null, NoTags), Version(1), Version(2),
            new ModelVersionDeployed(Model, 1, "prod", "eu", null), new ModelVersionDeployed(Model, 1, "prod", "us", null),
            new ModelVersionDeployed(Model, 2, "prod", "eu", 1), new ModelRenamed(Model, "churn", "churn-v2"),
            new ModelVersionUndeployed(Model, 1, "prod", "us"), new ModelArchived(Model), new ModelRestored(Model));

        var names = fold.Rows.Where(r => r.Kind == DeploymentHistory.Kinds.Name).ToList();
        Assert.Equal([("churn", (long?)7L), ("churn-v2", null)], names.Select(r => (r.Subject, r.LeftSeq)));
        var deployments = fold.Rows.Where(r => r.Kind == DeploymentHistory.Kinds.Deployment).ToList();
        Assert.Equal([("eu", 1, (long?)6L), ("us", 1, 8L), ("eu", 2, null)], deployments.Select(r => (r.Target!, r.Version!.Value, r.LeftSeq)));
        var archived = fold.Rows.Single(r => r.Kind == DeploymentHistory.Kinds.Archived);
        Assert.Equal((9L, (long?)10L), (archived.EnteredSeq, archived.LeftSeq));
    }
}
