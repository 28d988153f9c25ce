using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_reporting_a_deployment
{
    [Fact]
    public void a_first_deployment_into_a_slot_names_no_previous_version()
    {
        var decision = ModelDecisions.ReportDeployment(Given.Model(versions: 2), 2, "production", "eu-1", deployed: true);

        DecisionAssert.Accepted(decision, new ModelVersionDeployed(Given.ModelId, 2, "production", "eu-1", null));
    }

    [Fact]
    public void deploying_into_an_occupied_slot_records_the_version_it_replaces()
    {
        var model = Given.Model(versions: 2).Then(m => ModelDecisions.ReportDeployment(m, 1, "production", null, deployed: true));

        var decision = ModelDecisions.ReportDeployment(model, 2, "production", null, deployed: true);

        DecisionAssert.Accepted(decision, new ModelVersionDeployed(Given.ModelId, 2, "production", null, 1));
        Assert.Equal(2, model.Apply(decision).Deployments["production"]);
    }

    [Fact]
    public void the_same_version_in_another_target_is_another_slot()
    {
        var model = Given.Model(versions: 1).Then(m => ModelDecisions.ReportDeployment(m, 1, "production", "eu-1", deployed: true));

        var decision = ModelDecisions.ReportDeployment(model, 1, "production", "us-1", deployed: true);

        var deployed = DecisionAssert.Single<ModelVersionDeployed>(decision);
        Assert.Null(deployed.PreviousVersion);
        Assert.Equal(["production/eu-1", "production/us-1"], model.Apply(decision).Deployments.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void re_reporting_a_recorded_deployment_changes_nothing()
    {
        var model = Given.Model(versions: 1).Then(m => ModelDecisions.ReportDeployment(m, 1, "staging", null, deployed: true));

        DecisionAssert.Unchanged(ModelDecisions.ReportDeployment(model, 1, "staging", null, deployed: true));
    }

    [Fact]
    public void undeploying_the_recorded_version_empties_the_slot()
    {
        var model = Given.Model(versions: 1).Then(m => ModelDecisions.ReportDeployment(m, 1, "staging", null, deployed: true));

        var decision = ModelDecisions.ReportDeployment(model, 1, "staging", null, deployed: false);

        DecisionAssert.Accepted(decision, new ModelVersionUndeployed(Given.ModelId, 1, "staging", null));
        Assert.Empty(model.Apply(decision).Deployments);
    }

    [Fact]
    public void undeploying_a_version_the_record_does_not_show_there_is_refused()
    {
        var model = Given.Model(versions: 2).Then(m => ModelDecisions.ReportDeployment(m, 1, "staging", null, deployed: true));

        DecisionAssert.Rejected(ModelDecisions.ReportDeployment(model, 2, "staging", null, deployed: false), RejectionKind.Conflict, "staging", "1");
        DecisionAssert.Rejected(ModelDecisions.ReportDeployment(model, 1, "production", null, deployed: false), RejectionKind.Conflict, "production");
    }

    [Fact]
    public void an_unknown_version_or_an_archived_model_is_refused()
    {
        DecisionAssert.Rejected(ModelDecisions.ReportDeployment(Given.Model(versions: 1), 2, "staging", null, true), RejectionKind.NotFound);
        DecisionAssert.Rejected(ModelDecisions.ReportDeployment(Given.Model(versions: 1).Archived(), 1, "staging", null, true), RejectionKind.Conflict);
    }

    [Fact]
    public void the_version_views_follow_a_replacement()
    {
        var first = new ModelVersionDeployed(Given.ModelId, 1, "production", null, null);
        var second = new ModelVersionDeployed(Given.ModelId, 2, "production", null, 1);
        var v1 = ModelVersionView.Key(Given.ModelId, 1);
        var v2 = ModelVersionView.Key(Given.ModelId, 2);
        var one = ModelVersionView.Fold(null, v1, new ModelVersionRegistered(Given.ModelId, 1, "None", Given.Artifact(1), null,
            new Dictionary<string, string>(), new Dictionary<string, double>(), new Dictionary<string, string>(), null, null))!;
        var two = ModelVersionView.Fold(null, v2, new ModelVersionRegistered(Given.ModelId, 2, "None", Given.Artifact(2), null,
            new Dictionary<string, string>(), new Dictionary<string, double>(), new Dictionary<string, string>(), null, null))!;

        one = ModelVersionView.Fold(one, v1, first)!;
        Assert.Equal([v2, v1], ModelVersionView.KeysOf(second));
        one = ModelVersionView.Fold(one, v1, second)!;
        two = ModelVersionView.Fold(two, v2, second)!;

        Assert.Empty(one.Deployments);
        Assert.Equal(["production"], two.Deployments);
    }
}
