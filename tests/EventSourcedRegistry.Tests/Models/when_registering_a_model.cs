using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_registering_a_model
{
    [Fact]
    public void the_name_description_and_tags_are_recorded()
    {
        var tags = new Dictionary<string, string> { ["team"] = "growth", ["Tier"] = "gold" };

        var decision = ModelDecisions.Register(Given.ModelId, "Churn-Predictor", "Predicts churn.", tags);

        DecisionAssert.Accepted(decision, new ModelRegistered(Given.ModelId, "Churn-Predictor", "Predicts churn.",
            new Dictionary<string, string> { ["team"] = "growth", ["Tier"] = "gold" }));
    }

    [Fact]
    public void an_empty_description_is_recorded_as_no_description()
    {
        var registered = DecisionAssert.Single<ModelRegistered>(ModelDecisions.Register(Given.ModelId, "m", "", null));

        Assert.Null(registered.Description);
    }

    [Fact]
    public void missing_tags_are_recorded_as_an_empty_set()
    {
        var registered = DecisionAssert.Single<ModelRegistered>(ModelDecisions.Register(Given.ModelId, "m", null, null));

        Assert.NotNull(registered.Tags);
        Assert.Empty(registered.Tags);
    }

    [Fact]
    public void the_event_keeps_its_own_copy_of_the_tags()
    {
        var tags = new Dictionary<string, string> { ["team"] = "growth" };
        var registered = DecisionAssert.Single<ModelRegistered>(ModelDecisions.Register(Given.ModelId, "m", null, tags));

        tags["team"] = "changed later";
        tags["extra"] = "x";

        Assert.Equal("growth", Assert.Single(registered.Tags).Value);
    }

    [Fact]
    public void the_registered_model_is_active_and_has_no_versions()
    {
        var decision = ModelDecisions.Register(Given.ModelId, "Churn-Predictor", "Predicts churn.", null);

        var model = Given.Stream([.. decision.Events]);

        Assert.Equal(Given.ModelId, model.Id);
        Assert.Equal("Churn-Predictor", model.Name);
        Assert.Equal("churn-predictor", model.NormalizedName);
        Assert.Equal("Predicts churn.", model.Description);
        Assert.False(model.Archived);
        Assert.Equal(0, model.LatestVersion);
        Assert.Empty(model.VersionsByStage);
        Assert.Empty(model.Aliases);
    }
}
