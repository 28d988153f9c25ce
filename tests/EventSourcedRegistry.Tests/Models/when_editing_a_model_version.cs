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

    [Fact]
    public void resending_the_current_description_and_metadata_appends_nothing()
    {
        var metadata = Given.Json("""{"quantized":true,"bits":8}""");
        var same = Given.Json("""{ "bits": 8, "quantized": true }""");

        var decision = ModelDecisions.EditVersion(Given.Model(versions: 1), 1, "Quantized.", null, null, same, CurrentTags,
            currentDescription: "Quantized.", currentMetadata: metadata);

        DecisionAssert.Unchanged(decision);
    }

    [Fact]
    public void changed_metadata_beside_an_unchanged_description_records_only_the_metadata()
    {
        var before = Given.Json("""{"bits":8}""");
        var after = Given.Json("""{"bits":4}""");

        var decision = ModelDecisions.EditVersion(Given.Model(versions: 1), 1, "Quantized.", null, null, after, CurrentTags,
            currentDescription: "Quantized.", currentMetadata: before);

        var edited = DecisionAssert.Single<ModelVersionMetadataEdited>(decision);
        Assert.Null(edited.Description);
        Assert.Equal(4, edited.Metadata!.Value.GetProperty("bits").GetInt32());
    }
}
