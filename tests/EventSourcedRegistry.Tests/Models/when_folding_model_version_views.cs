using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_folding_model_version_views
{
    private static readonly Guid Id = Given.ModelId;

    private static string Key(int version) => ModelVersionView.Key(Id, version);

    private static ModelVersionRegistered Version(int n) =>
        new(Id, n, LifecycleGraph.None, Given.Artifact(n), null, new Dictionary<string, string> { ["depth"] = "6" },
            new Dictionary<string, double> { ["auc"] = 0.9 }, new Dictionary<string, string> { ["owner"] = "ana" }, "Version text.",
            Given.Json("""{"framework":"onnx"}"""));

    /// <summary>Projects the version documents the way the inline projection does: each event into every document it names.</summary>
    private static Dictionary<string, ModelVersionView> Project(params object[] events)
    {
        var docs = new Dictionary<string, ModelVersionView>();
        foreach (var e in events)
        foreach (var key in ModelVersionView.KeysOf(e))
        {
            var folded = ModelVersionView.Fold(docs.GetValueOrDefault(key), key, e);
            if (folded is null) docs.Remove(key);
            else docs[key] = folded;
        }
        return docs;
    }

    [Fact]
    public void keys_differ_by_model_and_by_version()
    {
        var keys = new[] { Key(1), Key(2), ModelVersionView.Key(Guid.NewGuid(), 1) };

        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void version_events_touch_their_own_version_document()
    {
        Assert.Equal([Key(2)], ModelVersionView.KeysOf(Version(2)));
        Assert.Equal([Key(2)], ModelVersionView.KeysOf(new ModelVersionMetadataEdited(Id, 2, null, new Dictionary<string, string>(), [], null)));
        Assert.Equal([Key(2)], ModelVersionView.KeysOf(new ModelVersionStageTransitioned(Id, 2, "None", "Staging", null)));
        Assert.Equal([Key(2)], ModelVersionView.KeysOf(new ModelAliasAssigned(Id, "champion", 2, null)));
        Assert.Equal([Key(2)], ModelVersionView.KeysOf(new ModelAliasRemoved(Id, "champion", 2)));
    }

    [Fact]
    public void an_alias_move_touches_the_new_and_the_previous_version_document()
    {
        Assert.Equal([Key(3), Key(1)], ModelVersionView.KeysOf(new ModelAliasAssigned(Id, "champion", 3, 1)));
    }

    [Fact]
    public void model_level_events_touch_no_version_document()
    {
        Assert.Empty(ModelVersionView.KeysOf(new ModelRegistered(Id, "m", null, new Dictionary<string, string>())));
        Assert.Empty(ModelVersionView.KeysOf(new ModelRenamed(Id, "m", "n")));
        Assert.Empty(ModelVersionView.KeysOf(new ModelMetadataEdited(Id, "d", new Dictionary<string, string>(), [])));
        Assert.Empty(ModelVersionView.KeysOf(new ModelArchived(Id)));
        Assert.Empty(ModelVersionView.KeysOf(new ModelRestored(Id)));
    }

    [Fact]
    public void registration_fills_the_document_with_everything_recorded()
    {
        var registered = Version(1);

        var doc = Assert.Single(Project(registered)).Value;

        Assert.Equal((Key(1), Id, 1, LifecycleGraph.None), (doc.Id, doc.ModelId, doc.VersionNumber, doc.Stage));
        Assert.Equal(registered.Artifact, doc.Artifact);
        Assert.Equal(registered.Params, doc.Params);
        Assert.Equal(registered.Metrics, doc.Metrics);
        Assert.Equal(registered.Tags, doc.Tags);
        Assert.Equal("Version text.", doc.Description);
        Assert.Equal("onnx", doc.Metadata?.GetProperty("framework").GetString());
        Assert.Empty(doc.Aliases);
    }

    [Fact]
    public void an_edit_changes_description_tags_and_metadata_and_leaves_what_it_does_not_name()
    {
        var docs = Project(Version(1),
            new ModelVersionMetadataEdited(Id, 1, null, new Dictionary<string, string> { ["runtime"] = "onnx" }, ["owner"], null));
        Assert.Equal("Version text.", docs[Key(1)].Description);
        Assert.Equal(new Dictionary<string, string> { ["runtime"] = "onnx" }, docs[Key(1)].Tags);
        Assert.Equal("onnx", docs[Key(1)].Metadata?.GetProperty("framework").GetString());

        docs = Project(Version(1), new ModelVersionMetadataEdited(Id, 1, "", new Dictionary<string, string>(), [],
            Given.Json("""{"framework":"torch"}""")));
        Assert.Null(docs[Key(1)].Description);
        Assert.Equal("torch", docs[Key(1)].Metadata?.GetProperty("framework").GetString());
    }

    [Fact]
    public void a_stage_transition_sets_the_stage_of_that_version_only()
    {
        var docs = Project(Version(1), Version(2), new ModelVersionStageTransitioned(Id, 2, LifecycleGraph.None, LifecycleGraph.Production, null));

        Assert.Equal(LifecycleGraph.None, docs[Key(1)].Stage);
        Assert.Equal(LifecycleGraph.Production, docs[Key(2)].Stage);
    }

    [Fact]
    public void an_alias_move_removes_the_alias_from_the_previous_version_and_adds_it_to_the_new_one()
    {
        var docs = Project(Version(1), Version(2),
            new ModelAliasAssigned(Id, "champion", 1, null),
            new ModelAliasAssigned(Id, "stable", 1, null),
            new ModelAliasAssigned(Id, "champion", 2, 1));

        Assert.Equal(["stable"], docs[Key(1)].Aliases);
        Assert.Equal(["champion"], docs[Key(2)].Aliases);
    }

    [Fact]
    public void aliases_on_a_document_are_listed_once_in_ordinal_order()
    {
        var docs = Project(Version(1),
            new ModelAliasAssigned(Id, "stable", 1, null),
            new ModelAliasAssigned(Id, "champion", 1, null),
            new ModelAliasAssigned(Id, "blue", 1, null),
            new ModelAliasAssigned(Id, "champion", 1, null));

        Assert.Equal(["blue", "champion", "stable"], docs[Key(1)].Aliases);
    }

    [Fact]
    public void a_removed_alias_leaves_the_document()
    {
        var docs = Project(Version(1), new ModelAliasAssigned(Id, "champion", 1, null), new ModelAliasRemoved(Id, "champion", 1));

        Assert.Empty(docs[Key(1)].Aliases);
    }

    [Fact]
    public void an_event_for_a_version_without_a_document_creates_none()
    {
        Assert.Null(ModelVersionView.Fold(null, Key(1), new ModelVersionStageTransitioned(Id, 1, "None", "Staging", null)));
        Assert.Null(ModelVersionView.Fold(null, Key(1), new ModelAliasAssigned(Id, "champion", 1, null)));
    }
}
