using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_renaming_a_model
{
    [Fact]
    public void the_old_and_the_new_name_are_recorded()
    {
        var model = Given.Model();

        DecisionAssert.Accepted(ModelDecisions.Rename(model, "retention-predictor"),
            new ModelRenamed(Given.ModelId, Given.ModelName, "retention-predictor"));
    }

    [Fact]
    public void renaming_to_the_current_name_changes_nothing()
    {
        DecisionAssert.Unchanged(ModelDecisions.Rename(Given.Model(), Given.ModelName));
    }

    [Fact]
    public void a_change_of_case_alone_is_a_rename()
    {
        var renamed = DecisionAssert.Single<ModelRenamed>(ModelDecisions.Rename(Given.Model(), "Churn-Predictor"));

        Assert.Equal("Churn-Predictor", renamed.NewName);
    }

    [Fact]
    public void the_renamed_model_answers_to_the_new_name_and_keeps_its_versions()
    {
        var model = Given.Model(versions: 2).Then(m => ModelDecisions.Rename(m, "Retention-Predictor"));

        Assert.Equal("Retention-Predictor", model.Name);
        Assert.Equal("retention-predictor", model.NormalizedName);
        Assert.Equal(2, model.LatestVersion);
    }
}
