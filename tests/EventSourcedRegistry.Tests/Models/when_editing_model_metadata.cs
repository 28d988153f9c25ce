using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_editing_model_metadata
{
    // Given.Model() has the description "Predicts churn." and the tag team=growth.

    [Fact]
    public void a_new_description_set_tags_and_removed_tags_are_recorded()
    {
        var model = Given.Model().Then(m => ModelDecisions.EditMetadata(m, null, new Dictionary<string, string> { ["tier"] = "gold" }, null));

        var decision = ModelDecisions.EditMetadata(model, "Predicts churn weekly.",
            new Dictionary<string, string> { ["owner"] = "ana" }, ["tier"]);

        DecisionAssert.Accepted(decision, new ModelMetadataEdited(Given.ModelId, "Predicts churn weekly.",
            new Dictionary<string, string> { ["owner"] = "ana" }, ["tier"]));
    }

    [Fact]
    public void only_tags_whose_value_changes_are_recorded()
    {
        var decision = ModelDecisions.EditMetadata(Given.Model(), null,
            new Dictionary<string, string> { ["team"] = "growth", ["owner"] = "ana" }, null);

        var edited = DecisionAssert.Single<ModelMetadataEdited>(decision);
        Assert.Equal("owner", Assert.Single(edited.SetTags).Key);
        Assert.Null(edited.Description);
    }

    [Fact]
    public void removing_a_tag_the_model_does_not_have_is_ignored_and_duplicates_count_once()
    {
        var decision = ModelDecisions.EditMetadata(Given.Model(), null, null, ["team", "no-such-tag", "team"]);

        Assert.Equal(["team"], DecisionAssert.Single<ModelMetadataEdited>(decision).RemovedTags);
    }

    [Fact]
    public void setting_and_removing_the_same_tag_is_invalid_and_names_the_tag()
    {
        var decision = ModelDecisions.EditMetadata(Given.Model(), null,
            new Dictionary<string, string> { ["stage-owner"] = "ana" }, ["stage-owner"]);

        DecisionAssert.Rejected(decision, RejectionKind.Invalid, "'stage-owner'");
    }

    [Fact]
    public void an_empty_description_clears_the_description()
    {
        var model = Given.Model();
        var decision = ModelDecisions.EditMetadata(model, "", null, null);

        Assert.Equal("", DecisionAssert.Single<ModelMetadataEdited>(decision).Description);
        Assert.Null(model.Apply(decision).Description);
    }

    [Fact]
    public void clearing_an_absent_description_changes_nothing()
    {
        var model = Given.Model().Then(m => ModelDecisions.EditMetadata(m, "", null, null));

        DecisionAssert.Unchanged(ModelDecisions.EditMetadata(model, "", null, null));
    }

    [Fact]
    public void resending_the_current_description_and_tags_changes_nothing()
    {
        var model = Given.Model();

        var decision = ModelDecisions.EditMetadata(model, model.Description,
            new Dictionary<string, string>(model.Tags), ["not-a-tag"]);

        DecisionAssert.Unchanged(decision);
    }

    [Fact]
    public void the_folded_model_has_the_new_description_and_tags()
    {
        var model = Given.Model().Then(m => ModelDecisions.EditMetadata(m, "Weekly.",
            new Dictionary<string, string> { ["owner"] = "ana", ["team"] = "retention" }, null));
        model = model.Then(m => ModelDecisions.EditMetadata(m, null, null, ["owner"]));

        Assert.Equal("Weekly.", model.Description);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "retention" }, model.Tags);
    }
}
