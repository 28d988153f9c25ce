using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

/// <summary>The recorded deletion's rules and folds: a tombstone that ends the model, refused while anything of it is protected or running.</summary>
public class when_deleting_a_model
{
    private static readonly ApprovalPolicy Protecting = ApprovalPolicy.Default; // Production and champion protected

    [Fact]
    public void deleting_records_a_tombstone_with_the_name_the_last_number_and_the_reason()
    {
        var model = Given.Model(versions: 2).InStage(1, "Staging");

        DecisionAssert.Accepted(ModelDecisions.Delete(model, Protecting, "retired"), new ModelDeleted(Given.ModelId, Given.ModelName, 2, "retired"));
    }

    [Fact]
    public void an_archived_model_may_be_deleted() =>
        DecisionAssert.Single<ModelDeleted>(ModelDecisions.Delete(Given.Model(versions: 1).Archived(), Protecting, null));

    [Theory]
    [InlineData("stage", "Production")]
    [InlineData("alias", "champion")]
    [InlineData("deployment", "prod")]
    public void a_protected_stage_a_protected_alias_or_a_deployment_refuses_the_deletion_naming_what_to_do_first(string held, string named)
    {
        var model = Given.Model(versions: 2);
        model = held switch
        {
            "stage" => model.InStage(2, "Staging").InStage(2, "Production"),
            "alias" => model.WithAlias("champion", 2),
            _ => model.Then(m => ModelDecisions.ReportDeployment(m, 2, "prod", null, deployed: true)),
        };

        DecisionAssert.Rejected(ModelDecisions.Delete(model, Protecting, "x"), RejectionKind.Conflict, Given.ModelName, named, "version 2");
        DecisionAssert.Rejected(ModelDecisions.DeleteVersion(model, Protecting, 2, "x"), RejectionKind.Conflict, named);
        // Another version holds nothing: it may go.
        DecisionAssert.Single<ModelVersionDeleted>(ModelDecisions.DeleteVersion(model, Protecting, 1, "x"));
        // With nothing protected, only the deployment still holds.
        Assert.Equal(held == "deployment", ModelDecisions.Delete(model, ApprovalPolicy.None, "x").IsRejected);
    }

    [Fact]
    public void a_deleted_model_folds_to_a_deleted_view_that_no_projection_keeps()
    {
        var model = Given.Model(versions: 2).WithAlias("challenger", 2).Then(m => ModelDecisions.Delete(m, Protecting, null));

        Assert.True(model.Deleted);
        Assert.True(model.Copy().Deleted);
        Assert.Null(ModelVersionView.Fold(new ModelVersionView(), ModelVersionView.Key(Given.ModelId, 1), new ModelDeleted(Given.ModelId, "x", 2, null)));
        Assert.Equal([ModelVersionView.Key(Given.ModelId, 1), ModelVersionView.Key(Given.ModelId, 2)],
            ModelVersionView.KeysOf(new ModelDeleted(Given.ModelId, "x", 2, null)));
        Assert.Equal("model \"churn-predictor\" deleted (name freed; history kept)", AuditSummary.Describe(new ModelDeleted(Given.ModelId, Given.ModelName, 2, null)));
        Assert.Equal("retired", AuditSummary.ReasonOf(new ModelDeleted(Given.ModelId, Given.ModelName, 2, "retired")));
    }

    [Fact]
    public void a_deleted_version_leaves_its_stage_and_aliases_and_its_number_is_never_reused()
    {
        var model = Given.Model(versions: 2).WithAlias("challenger", 1).Then(m => ModelDecisions.DeleteVersion(m, Protecting, 1, "bad data"));

        Assert.False(model.HasVersion(1));
        Assert.True(model.HasVersion(2));
        Assert.Equal([2], model.VersionsByStage["None"]);
        Assert.Empty(model.Aliases);
        Assert.Equal(3, model.RegisterVersion().LatestVersion);
        DecisionAssert.Rejected(ModelDecisions.DeleteVersion(model, Protecting, 1, null), RejectionKind.NotFound, "version 1");
        DecisionAssert.Rejected(ModelDecisions.AssignAlias(model, "challenger", 1), RejectionKind.NotFound);
    }

    [Fact]
    public void the_intervals_and_the_registry_state_close_what_the_deletions_end()
    {
        var at = new DateTime(2026, 3, 3, 14, 0, 0, DateTimeKind.Utc);
        var events = new object[]
        {
            new ModelRegistered(Given.ModelId, "churn", null, new Dictionary<string, string>()),
            new ModelVersionRegistered(Given.ModelId, 1, "None", Given.Artifact(1), null, new Dictionary<string, string>(), new Dictionary<string, double>(),
                new Dictionary<string, string>(), null, null),
            new ModelVersionRegistered(Given.ModelId, 2, "None", Given.Artifact(2), null, new Dictionary<string, string>(), new Dictionary<string, double>(),
                new Dictionary<string, string>(), null, null),
            new ModelAliasAssigned(Given.ModelId, "challenger", 1, null),
            new ModelVersionDeleted(Given.ModelId, 1, "None", "bad data"),
            new ModelDeleted(Given.ModelId, "churn", 2, "retired"),
        };
        var fold = new IntervalFold();
        for (var i = 0; i < events.Length; i++) fold.Apply(events[i], i + 1, at, "alice", null);
        var rows = RegistryStates.Of(Given.ModelId, events.Select((e, i) => (e, (long)(i + 1)))).ToList();

        // The version's deletion makes a row; the model's makes none (its name interval closes, so no read lists it).
        Assert.Equal(5L, rows[^1].EnteredSeq);
        Assert.Equal("""{"archived":false,"versionsByStage":{"None":[2]},"aliases":{},"deployments":{}}""", rows[^1].State);

        Assert.All(fold.Rows, r => Assert.NotNull(r.LeftSeq));
        Assert.Equal([5L, 5L], fold.Rows.Where(r => r.Version == 1).Select(r => r.LeftSeq!.Value));
        Assert.Equal(("bad data", "retired"), (fold.Rows.First(r => r.Version == 1).LeftReason, fold.Rows.First(r => r.Kind == "name").LeftReason));
    }
}
