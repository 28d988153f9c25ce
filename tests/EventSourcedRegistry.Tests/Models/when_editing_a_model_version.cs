using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_editing_a_model_version
{
    private static readonly Dictionary<string, string> CurrentTags = new() { ["candidate"] = "true", ["owner"] = "ana" };

    [Fact]
    public void the_description_changed_tags_removed_tags_and_metadata_are_recorded()
    {
        var metadata = Given.Json("""{"quantized":true}""");

        var decision = ModelDecisions.EditVersion(Given.Model(versions: 2), 2, "Quantized.",
            new Dictionary<string, string> { ["owner"] = "bo", ["runtime"] = "onnx" }, ["candidate", "absent"], metadata, CurrentTags);

        DecisionAssert.Accepted(decision, new ModelVersionMetadataEdited(Given.ModelId, 2, "Quantized.",
            new Dictionary<string, string> { ["owner"] = "bo", ["runtime"] = "onnx" }, ["candidate"], metadata));
    }

    [Fact]
    public void tags_that_already_have_the_value_are_left_out()
    {
        var decision = ModelDecisions.EditVersion(Given.Model(versions: 1), 1, null,
            new Dictionary<string, string> { ["owner"] = "ana", ["runtime"] = "onnx" }, null, null, CurrentTags);

        var edited = DecisionAssert.Single<ModelVersionMetadataEdited>(decision);
        Assert.Equal(["runtime"], edited.SetTags.Keys);
    }

    [Fact]
    public void an_edit_that_changes_nothing_appends_nothing()
    {
        var decision = ModelDecisions.EditVersion(Given.Model(versions: 1), 1, null,
            new Dictionary<string, string>(CurrentTags), ["absent"], null, CurrentTags);

        DecisionAssert.Unchanged(decision);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-1)]
    public void a_version_the_model_does_not_have_is_not_found_and_the_detail_gives_the_range(int version)
    {
        var decision = ModelDecisions.EditVersion(Given.Model(versions: 2), version, "x", null, null, null, CurrentTags);

        DecisionAssert.Rejected(decision, RejectionKind.NotFound, Given.ModelName, $"version {version}", "1 to 2");
    }

    [Fact]
    public void a_model_without_versions_says_so()
    {
        var decision = ModelDecisions.EditVersion(Given.Model(), 1, "x", null, null, null, CurrentTags);

        DecisionAssert.Rejected(decision, RejectionKind.NotFound, Given.ModelName, "no versions yet");
    }

    [Fact]
    public void setting_and_removing_the_same_tag_is_invalid_and_names_the_tag()
    {
        var decision = ModelDecisions.EditVersion(Given.Model(versions: 1), 1, null,
            new Dictionary<string, string> { ["runtime"] = "onnx" }, ["runtime"], null, CurrentTags);

        DecisionAssert.Rejected(decision, RejectionKind.Invalid, "'runtime'");
    }
}
