using System.Text.Json;
using EventSourcedRegistry.Metadata;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Metadata;

public class when_checking_metadata_against_a_standard
{
    private const string OwnerRequired = """
        {"title":"Model card","type":"object","required":["owner","intendedUse"],
         "properties":{"owner":{"type":"string","minLength":1},"intendedUse":{"type":"string"},"rows":{"type":"integer","minimum":1}}}
        """;

    private static JsonElement J(string json) => Given.Json(json);

    [Theory]
    [InlineData("""{"type":"object"}""")]
    [InlineData("true")]
    [InlineData("""{"$defs":{"name":{"type":"string"}},"properties":{"owner":{"$ref":"#/$defs/name"}}}""")]
    [InlineData("""{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["owner"]}""")]
    public void a_usable_schema_passes(string schema) => Assert.Empty(MetadataStandard.CheckSchema(J(schema)));

    [Theory]
    [InlineData("\"object\"")]
    [InlineData("[]")]
    [InlineData("42")]
    public void a_schema_that_is_not_an_object_or_boolean_is_refused(string schema) =>
        Assert.Contains("JSON object", Assert.Single(MetadataStandard.CheckSchema(J(schema))));

    [Theory]
    [InlineData("""{"type":"strin"}""")]
    [InlineData("""{"required":"owner"}""")]
    [InlineData("""{"minLength":-1}""")]
    public void a_schema_that_breaks_the_meta_schema_is_refused(string schema) =>
        Assert.NotEmpty(MetadataStandard.CheckSchema(J(schema)));

    [Fact]
    public void a_schema_that_refers_outside_itself_is_refused_since_nothing_is_fetched() =>
        Assert.NotEmpty(MetadataStandard.CheckSchema(J("""{"properties":{"owner":{"$ref":"https://example.com/owner.json"}}}""")));

    [Fact]
    public void a_schema_larger_than_the_limit_is_refused()
    {
        var big = J($$"""{"description":"{{new string('x', MetadataStandard.MaxSchemaBytes)}}"}""");

        Assert.Contains("KiB", Assert.Single(MetadataStandard.CheckSchema(big)));
    }

    [Fact]
    public void metadata_that_meets_the_schema_has_no_errors() =>
        Assert.Empty(MetadataStandard.Validate(J(OwnerRequired), J("""{"owner":"fraud","intendedUse":"scoring","rows":10}""")));

    [Fact]
    public void every_problem_is_reported_with_where_it_is()
    {
        var errors = MetadataStandard.Validate(J(OwnerRequired), J("""{"owner":"","rows":0}"""));

        Assert.Contains(errors, e => e.Location == "" && e.Message.Contains("intendedUse"));
        Assert.Contains(errors, e => e.Location == "/owner");
        Assert.Contains(errors, e => e.Location == "/rows");
    }

    [Fact]
    public void a_version_without_metadata_is_checked_as_an_empty_object()
    {
        Assert.NotEmpty(MetadataStandard.Validate(J(OwnerRequired), null));
        Assert.Empty(MetadataStandard.Validate(J("""{"type":"object","properties":{"rows":{"type":"integer"}}}"""), null));
    }

    [Fact]
    public void metadata_is_checked_against_the_registry_and_the_model_standard_and_both_are_named()
    {
        var registry = J("""{"required":["owner"]}""");
        var model = J("""{"required":["dataset"]}""");

        var decision = MetadataStandard.MetadataRefusal(model, registry, J("""{}"""));

        var rejection = DecisionAssert.Rejected(decision!, RejectionKind.Invalid, "registry", "model");
        var errors = Assert.IsType<Dictionary<string, string[]>>(rejection.Extensions!["errors"]);
        var messages = Assert.Single(errors, e => e.Key == "metadata").Value;
        Assert.Contains(messages, m => m.StartsWith("registry metadata schema:") && m.Contains("owner"));
        Assert.Contains(messages, m => m.StartsWith("model metadata schema:") && m.Contains("dataset"));
    }

    [Fact]
    public void nested_problems_are_keyed_by_their_pointer_under_metadata()
    {
        var decision = MetadataStandard.MetadataRefusal(J(OwnerRequired), null, J("""{"owner":"a","intendedUse":"b","rows":"many"}"""));

        var errors = Assert.IsType<Dictionary<string, string[]>>(DecisionAssert.Rejected(decision!, RejectionKind.Invalid).Extensions!["errors"]);
        Assert.Equal(["metadata/rows"], errors.Keys);
    }

    [Fact]
    public void without_standards_any_metadata_is_accepted() =>
        Assert.Null(MetadataStandard.MetadataRefusal(null, null, J("""{"anything":[1,2,3]}""")));

    [Fact]
    public void setting_a_model_schema_records_it_and_setting_the_same_one_again_changes_nothing()
    {
        var model = Given.Model();
        var set = DecisionAssert.Single<ModelMetadataSchemaSet>(MetadataStandard.SetModelSchema(model, J(OwnerRequired)));

        model = model.Apply(Decision.Accept(set));

        Assert.True(JsonElement.DeepEquals(J(OwnerRequired), model.MetadataSchema!.Value));
        DecisionAssert.Unchanged(MetadataStandard.SetModelSchema(model, J(OwnerRequired)));
        DecisionAssert.Single<ModelMetadataSchemaSet>(MetadataStandard.SetModelSchema(model, J("""{"type":"object"}""")));
    }

    [Fact]
    public void removing_a_model_schema_needs_one_to_remove()
    {
        DecisionAssert.Rejected(MetadataStandard.RemoveModelSchema(Given.Model()), RejectionKind.NotFound, "churn-predictor");

        var model = Given.Model().Then(m => MetadataStandard.SetModelSchema(m, J(OwnerRequired)));
        model = model.Then(MetadataStandard.RemoveModelSchema);

        Assert.Null(model.MetadataSchema);
    }

    [Fact]
    public void an_archived_model_accepts_no_schema_change()
    {
        var model = Given.Model().Archived();

        DecisionAssert.Rejected(MetadataStandard.SetModelSchema(model, J(OwnerRequired)), RejectionKind.Conflict, "archived");
    }

    [Fact]
    public void the_registry_standard_folds_from_its_own_events()
    {
        var set = DecisionAssert.Single<RegistryMetadataSchemaSet>(MetadataStandard.SetRegistrySchema(null, J(OwnerRequired)));
        var settings = RegistrySettings.Fold(null, set);

        DecisionAssert.Unchanged(MetadataStandard.SetRegistrySchema(settings, J(OwnerRequired)));
        var removed = DecisionAssert.Single<RegistryMetadataSchemaRemoved>(MetadataStandard.RemoveRegistrySchema(settings));
        settings = RegistrySettings.Fold(settings, removed);

        Assert.Null(settings.MetadataSchema);
        DecisionAssert.Rejected(MetadataStandard.RemoveRegistrySchema(settings), RejectionKind.NotFound, "registry");
    }
}
