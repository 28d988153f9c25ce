using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_folding_the_model_view
{
    private static readonly Guid Id = Given.ModelId;

    private static ModelVersionRegistered Version(int n) =>
        new(Id, n, LifecycleGraph.None, Given.Artifact(n), null, new Dictionary<string, string>(),
            new Dictionary<string, double>(), new Dictionary<string, string>(), null, null);

    private static ModelVersionStageTransitioned Move(int n, string from, string to) => new(Id, n, from, to, null);

    [Fact]
    public void a_stream_yields_versions_per_stage_aliases_tags_and_latest_version()
    {
        var model = Given.Stream(
            new ModelRegistered(Id, "Churn", "First.", new Dictionary<string, string> { ["team"] = "growth", ["tier"] = "silver" }),
            Version(1), Version(2), Version(3), Version(4),
            Move(3, LifecycleGraph.None, LifecycleGraph.Production),
            Move(1, LifecycleGraph.None, LifecycleGraph.Production),
            Move(2, LifecycleGraph.None, LifecycleGraph.Staging),
            Move(1, LifecycleGraph.Production, LifecycleGraph.Archived),
            new ModelAliasAssigned(Id, "champion", 1, null),
            new ModelAliasAssigned(Id, "challenger", 2, null),
            new ModelAliasAssigned(Id, "champion", 3, 1),
            new ModelAliasAssigned(Id, "shadow", 4, null),
            new ModelAliasRemoved(Id, "shadow", 4),
            new ModelMetadataEdited(Id, "Second.", new Dictionary<string, string> { ["tier"] = "gold" }, ["team"]),
            new ModelRenamed(Id, "Churn", "Retention"));

        Assert.Equal(Id, model.Id);
        Assert.Equal(("Retention", "retention"), (model.Name, model.NormalizedName));
        Assert.Equal("Second.", model.Description);
        Assert.Equal(new Dictionary<string, string> { ["tier"] = "gold" }, model.Tags);
        Assert.Equal(4, model.LatestVersion);
        Assert.Equal(new Dictionary<string, VersionSet>
        {
            [LifecycleGraph.None] = [4],
            [LifecycleGraph.Staging] = [2],
            [LifecycleGraph.Production] = [3],
            [LifecycleGraph.Archived] = [1],
        }, model.VersionsByStage);
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 3, ["challenger"] = 2 }, model.Aliases);
        Assert.False(model.Archived);
    }

    [Fact]
    public void versions_in_a_stage_are_kept_in_ascending_order_whatever_order_they_arrive_in()
    {
        var model = Given.Stream(new ModelRegistered(Id, "m", null, new Dictionary<string, string>()),
            Version(1), Version(2), Version(3), Version(4), Version(5),
            Move(4, LifecycleGraph.None, LifecycleGraph.Staging),
            Move(1, LifecycleGraph.None, LifecycleGraph.Staging),
            Move(5, LifecycleGraph.None, LifecycleGraph.Staging),
            Move(2, LifecycleGraph.None, LifecycleGraph.Staging));

        Assert.Equal([1, 2, 4, 5], model.VersionsByStage[LifecycleGraph.Staging]);
        Assert.Equal(LifecycleGraph.None, model.StageOf(3));
    }

    [Fact]
    public void a_stage_left_empty_is_dropped()
    {
        var model = Given.Stream(new ModelRegistered(Id, "m", null, new Dictionary<string, string>()),
            Version(1), Move(1, LifecycleGraph.None, LifecycleGraph.Production));

        Assert.Equal([LifecycleGraph.Production], model.VersionsByStage.Keys);
    }

    [Fact]
    public void archive_and_restore_toggle_the_archived_flag()
    {
        var model = Given.Stream(new ModelRegistered(Id, "m", null, new Dictionary<string, string>()), new ModelArchived(Id));
        Assert.True(model.Archived);

        Assert.False(ModelView.Fold(model, new ModelRestored(Id)).Archived);
    }

    [Fact]
    public void an_empty_description_in_an_edit_clears_it_and_a_missing_one_keeps_it()
    {
        var model = Given.Stream(new ModelRegistered(Id, "m", "Kept.", new Dictionary<string, string>()),
            new ModelMetadataEdited(Id, null, new Dictionary<string, string> { ["a"] = "1" }, []));
        Assert.Equal("Kept.", model.Description);

        model = ModelView.Fold(model, new ModelMetadataEdited(Id, "", new Dictionary<string, string>(), []));
        Assert.Null(model.Description);
    }

    [Fact]
    public void version_only_metadata_edits_leave_the_model_view_as_it_was()
    {
        var model = Given.Stream(new ModelRegistered(Id, "m", "Kept.", new Dictionary<string, string> { ["a"] = "1" }), Version(1));

        model = ModelView.Fold(model, new ModelVersionMetadataEdited(Id, 1, "Version text.",
            new Dictionary<string, string> { ["b"] = "2" }, ["a"], null));

        Assert.Equal("Kept.", model.Description);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, model.Tags);
    }

    [Fact]
    public void stage_lookups_answer_for_every_version_and_only_for_registered_ones()
    {
        var model = Given.Stream(new ModelRegistered(Id, "m", null, new Dictionary<string, string>()),
            Version(1), Version(2), Move(2, LifecycleGraph.None, LifecycleGraph.Staging));

        Assert.Equal(LifecycleGraph.None, model.StageOf(1));
        Assert.Equal(LifecycleGraph.Staging, model.StageOf(2));
        Assert.Null(model.StageOf(3));
        Assert.True(model.HasVersion(2));
        Assert.False(model.HasVersion(0));
        Assert.False(model.HasVersion(3));
    }

    [Fact]
    public void a_copy_has_every_property_and_folding_into_it_leaves_the_original_alone()
    {
        var model = Given.Stream(
            new ModelRegistered(Id, "Churn", "First.", new Dictionary<string, string> { ["team"] = "growth" }),
            Version(1), Version(2), Version(3), new ModelVersionDeleted(Id, 3, LifecycleGraph.None, null),
            Move(1, LifecycleGraph.None, LifecycleGraph.Production),
            new ModelAliasAssigned(Id, "champion", 1, null),
            new ModelVersionDeployed(Id, 1, "prod", "eu", null),
            new ModelMetadataSchemaSet(Id, System.Text.Json.JsonDocument.Parse("""{"type":"object"}""").RootElement),
            new EventSourcedRegistry.Approvals.TransitionRequested(Id, Guid.NewGuid(), EventSourcedRegistry.Approvals.TransitionKinds.Stage,
                2, LifecycleGraph.Production, false, new string('a', 64), "key:pipeline", null, DateTimeOffset.UnixEpoch),
            new ModelArchived(Id),
            new ModelDeleted(Id, "Churn", 3, null));
        model.Revision = 7;
        var original = System.Text.Json.JsonSerializer.Serialize(model);

        var copy = model.Copy();
        Assert.Equal(original, System.Text.Json.JsonSerializer.Serialize(copy));
        // Every property is set to something other than its default, so a property Copy forgot would show above.
        Assert.All(typeof(ModelView).GetProperties(), p =>
            Assert.NotEqual(System.Text.Json.JsonSerializer.Serialize(p.GetValue(new ModelView())),
                System.Text.Json.JsonSerializer.Serialize(p.GetValue(model))));

        foreach (var @event in new object[]
                 {
                     new ModelRestored(Id), Version(4), new ModelVersionDeleted(Id, 1, LifecycleGraph.Production, null), Move(2, LifecycleGraph.None, LifecycleGraph.Production),
                     new ModelAliasAssigned(Id, "champion", 2, 1), new ModelVersionDeployed(Id, 2, "prod", "eu", 1),
                     new ModelMetadataEdited(Id, "Second.", new Dictionary<string, string> { ["tier"] = "gold" }, ["team"]),
                     new ModelRenamed(Id, "Churn", "Retention"),
                 })
            ModelView.Fold(copy, @event);

        Assert.Equal(original, System.Text.Json.JsonSerializer.Serialize(model));
        Assert.NotEqual(original, System.Text.Json.JsonSerializer.Serialize(copy));
    }
}
