using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_registering_a_model_version
{
    private static Decision Register(ModelView model, ArtifactReference? artifact = null, LifecycleGraph? lifecycle = null) =>
        ModelDecisions.RegisterVersion(model, lifecycle ?? LifecycleGraph.Default, artifact ?? Given.Artifact(model.LatestVersion + 1),
            null, null, null, null, null, null);

    [Fact]
    public void everything_the_pipeline_sends_is_recorded_on_version_1_in_the_initial_stage()
    {
        var artifact = new ArtifactReference("s3://models/churn/1/model.onnx", Given.Sha256("model.onnx"), 52_428_800);
        var lineage = new Lineage("run-42", "https://git.example.com/ml/churn", "9fceb02",
            [new DatasetReference("s3://data/churn/2024-06.parquet", Given.Sha256("2024-06.parquet"))]);
        var metadata = Given.Json("""{"framework":"onnx","inputs":[{"name":"features","shape":[1,32]}]}""");

        var decision = ModelDecisions.RegisterVersion(Given.Model(), LifecycleGraph.Default, artifact, lineage,
            new Dictionary<string, string> { ["learning_rate"] = "0.01" },
            new Dictionary<string, double> { ["auc"] = 0.91, ["f1"] = 0.78 },
            new Dictionary<string, string> { ["candidate"] = "true" }, "Retrained on June data.", metadata);

        DecisionAssert.Accepted(decision, new ModelVersionRegistered(Given.ModelId, 1, LifecycleGraph.None, artifact, lineage,
            new Dictionary<string, string> { ["learning_rate"] = "0.01" },
            new Dictionary<string, double> { ["auc"] = 0.91, ["f1"] = 0.78 },
            new Dictionary<string, string> { ["candidate"] = "true" }, "Retrained on June data.", metadata));
    }

    [Fact]
    public void versions_are_numbered_1_to_n_in_registration_order()
    {
        var model = Given.Model();
        const int count = 6;

        for (var expected = 1; expected <= count; expected++)
        {
            var decision = Register(model);
            Assert.Equal(expected, DecisionAssert.Single<ModelVersionRegistered>(decision).Version);
            model = model.Apply(decision);
            Assert.Equal(expected, model.LatestVersion);
        }

        Assert.Equal(Enumerable.Range(1, count), model.VersionsByStage[LifecycleGraph.None]);
    }

    [Fact]
    public void the_next_number_follows_the_latest_even_after_the_others_moved_stage()
    {
        var model = Given.Model(versions: 3).InStage(1, LifecycleGraph.Archived).InStage(3, LifecycleGraph.Production);

        Assert.Equal(4, DecisionAssert.Single<ModelVersionRegistered>(Register(model)).Version);
    }

    [Fact]
    public void the_artifact_digest_is_recorded_in_lower_case()
    {
        var digest = Given.Sha256("model.bin");
        var decision = Register(Given.Model(), new ArtifactReference(null, digest.ToUpperInvariant(), 10));

        Assert.Equal(digest, DecisionAssert.Single<ModelVersionRegistered>(decision).Artifact.Sha256);
    }

    [Fact]
    public void the_stage_recorded_is_the_configured_lifecycles_initial_stage()
    {
        var lifecycle = LifecycleGraph.From(new LifecycleOptions { Stages = ["Draft", "Live", "Retired"] });

        var registered = DecisionAssert.Single<ModelVersionRegistered>(Register(Given.Model(), lifecycle: lifecycle));

        Assert.Equal("Draft", registered.Stage);
    }

    [Fact]
    public void missing_maps_are_recorded_empty_and_an_empty_description_as_none()
    {
        var decision = ModelDecisions.RegisterVersion(Given.Model(), LifecycleGraph.Default, Given.Artifact(1),
            null, null, null, null, "", null);

        var registered = DecisionAssert.Single<ModelVersionRegistered>(decision);
        Assert.Empty(registered.Params);
        Assert.Empty(registered.Metrics);
        Assert.Empty(registered.Tags);
        Assert.Null(registered.Description);
        Assert.Null(registered.Lineage);
        Assert.Null(registered.Metadata);
    }

    [Fact]
    public void the_event_keeps_its_own_copy_of_params_metrics_and_tags()
    {
        var parameters = new Dictionary<string, string> { ["depth"] = "6" };
        var metrics = new Dictionary<string, double> { ["auc"] = 0.9 };
        var tags = new Dictionary<string, string> { ["candidate"] = "true" };
        var registered = DecisionAssert.Single<ModelVersionRegistered>(ModelDecisions.RegisterVersion(Given.Model(),
            LifecycleGraph.Default, Given.Artifact(1), null, parameters, metrics, tags, null, null));

        parameters["depth"] = "8";
        metrics["auc"] = 0.1;
        tags.Clear();

        Assert.Equal("6", registered.Params["depth"]);
        Assert.Equal(0.9, registered.Metrics["auc"]);
        Assert.Equal("true", registered.Tags["candidate"]);
    }
}
