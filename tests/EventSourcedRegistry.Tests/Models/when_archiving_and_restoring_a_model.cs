using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_archiving_and_restoring_a_model
{
    [Fact]
    public void archiving_an_active_model_records_model_archived()
    {
        DecisionAssert.Accepted(ModelDecisions.Archive(Given.Model()), new ModelArchived(Given.ModelId));
    }

    [Fact]
    public void archiving_an_archived_model_is_a_conflict_naming_the_model()
    {
        var model = Given.Model().Archived();

        DecisionAssert.Rejected(ModelDecisions.Archive(model), RejectionKind.Conflict, Given.ModelName, "archived");
    }

    [Fact]
    public void restoring_an_archived_model_records_model_restored()
    {
        var model = Given.Model().Archived();

        DecisionAssert.Accepted(ModelDecisions.Restore(model), new ModelRestored(Given.ModelId));
    }

    [Fact]
    public void restoring_an_active_model_is_a_conflict_naming_the_model()
    {
        DecisionAssert.Rejected(ModelDecisions.Restore(Given.Model()), RejectionKind.Conflict, Given.ModelName, "not archived");
    }

    [Fact]
    public void a_restored_model_accepts_commands_again_and_kept_its_versions_and_aliases()
    {
        var model = Given.Model(versions: 2).WithAlias("champion", 2).Archived().Then(ModelDecisions.Restore);

        Assert.False(model.Archived);
        Assert.Equal(2, model.LatestVersion);
        Assert.Equal(2, model.Aliases["champion"]);
        Assert.Equal(3, DecisionAssert.Single<ModelVersionRegistered>(ModelDecisions.RegisterVersion(model,
            LifecycleGraph.Default, Given.Artifact(3), null, null, null, null, null, null)).Version);
    }
}
