using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Lifecycle;

public class when_checking_stage_gates
{
    private static LifecycleGraph Gated(StageGateOptions production) =>
        LifecycleGraph.From(new LifecycleOptions { Gates = new() { ["Production"] = production } });

    private static StageGate GateOf(StageGateOptions production) => Gated(production).GatesFor("Production")!;

    private static ModelVersionView Candidate(Lineage? lineage = null, Dictionary<string, double>? metrics = null,
        string? metadata = null, Dictionary<string, string>? tags = null) => new()
    {
        Id = ModelVersionView.Key(Given.ModelId, 1),
        ModelId = Given.ModelId,
        VersionNumber = 1,
        Stage = "Staging",
        Lineage = lineage,
        Metrics = metrics ?? new(),
        Metadata = metadata is null ? null : Given.Json(metadata),
        Tags = tags ?? new(),
    };

    [Fact]
    public void without_gates_every_stage_admits_any_version()
    {
        Assert.Null(LifecycleGraph.Default.GatesFor("Production"));
        Assert.Empty(StageGates.Check(null, Candidate()));
    }

    [Fact]
    public void a_required_lineage_field_is_unmet_when_missing_or_blank()
    {
        var gate = GateOf(new StageGateOptions { Lineage = ["sourceCommit", "runId", "datasets", "sourceRepository"] });

        var unmet = StageGates.Check(gate, Candidate(new Lineage("run-7", "  ", null, [])));

        Assert.Equal(["sourceCommit", "datasets", "sourceRepository"], unmet.Select(u => u.Requirement));
        Assert.All(unmet, u => Assert.Equal("lineage", u.Kind));
        Assert.Contains("lineage.sourceCommit", unmet[0].Detail);
    }

    [Fact]
    public void required_lineage_is_met_by_a_version_that_has_it()
    {
        var gate = GateOf(new StageGateOptions { Lineage = ["sourceCommit", "runId", "datasets"] });

        Assert.Empty(StageGates.Check(gate, Candidate(new Lineage("run-7", null, "9fceb02", [new DatasetReference("s3://d", null)]))));
    }

    [Fact]
    public void lineage_field_names_are_matched_regardless_of_case_and_reported_in_the_api_spelling()
    {
        var gate = GateOf(new StageGateOptions { Lineage = ["SOURCECOMMIT"] });

        Assert.Equal(["sourceCommit"], gate.Lineage);
    }

    [Theory]
    [InlineData("auc >= 0.8", 0.8, true)]
    [InlineData("auc >= 0.8", 0.79, false)]
    [InlineData("auc > 0.8", 0.8, false)]
    [InlineData("auc > 0.8", 0.81, true)]
    [InlineData("latency_ms <= 50", 50, true)]
    [InlineData("latency_ms <= 50", 50.5, false)]
    [InlineData("latency_ms < 50", 50, false)]
    [InlineData("latency_ms < 50", 49.9, true)]
    [InlineData("drift == 0", 0, true)]
    [InlineData("drift == 0", 0.001, false)]
    [InlineData("loss<=1e-3", 0.0009, true)]
    public void a_metric_threshold_compares_with_its_operator(string requirement, double value, bool met)
    {
        var gate = GateOf(new StageGateOptions { Metrics = [requirement] });
        var metric = gate.Metrics.Single().Metric;

        var unmet = StageGates.Check(gate, Candidate(metrics: new() { [metric] = value }));

        Assert.Equal(met, unmet.Count == 0);
        if (!met) Assert.Equal("metric", unmet.Single().Kind);
    }

    [Fact]
    public void a_missing_metric_is_unmet_and_says_it_is_missing()
    {
        var gate = GateOf(new StageGateOptions { Metrics = ["auc >= 0.8"] });

        var unmet = Assert.Single(StageGates.Check(gate, Candidate(metrics: new() { ["AUC"] = 0.99 })));

        Assert.Equal("auc >= 0.8", unmet.Requirement);
        Assert.Contains("no metric 'auc'", unmet.Detail);
    }

    [Fact]
    public void a_metric_below_its_threshold_reports_the_value_it_has()
    {
        var gate = GateOf(new StageGateOptions { Metrics = ["auc >= 0.8"] });

        var unmet = Assert.Single(StageGates.Check(gate, Candidate(metrics: new() { ["auc"] = 0.75 })));

        Assert.Contains("auc = 0.75", unmet.Detail);
    }

    [Fact]
    public void a_required_metadata_key_must_be_present_and_not_null()
    {
        var gate = GateOf(new StageGateOptions { Metadata = ["owner", "intendedUse", "card"] });

        var unmet = StageGates.Check(gate, Candidate(metadata: """{"owner":"fraud-team","intendedUse":null}"""));

        Assert.Equal(["intendedUse", "card"], unmet.Select(u => u.Requirement));
        Assert.All(unmet, u => Assert.Equal("metadata", u.Kind));
    }

    [Fact]
    public void a_metadata_key_may_be_a_json_pointer_into_nested_metadata()
    {
        var gate = GateOf(new StageGateOptions { Metadata = ["/evaluation/holdout", "/inputs/0/name", "/a~1b"] });

        Assert.Empty(StageGates.Check(gate, Candidate(metadata: """{"evaluation":{"holdout":"2024-06"},"inputs":[{"name":"x"}],"a/b":1}""")));
        Assert.Equal(3, StageGates.Check(gate, Candidate(metadata: """{"evaluation":{},"inputs":[]}""")).Count);
    }

    [Fact]
    public void metadata_that_is_absent_or_not_an_object_has_no_keys()
    {
        var gate = GateOf(new StageGateOptions { Metadata = ["owner"] });

        Assert.Single(StageGates.Check(gate, Candidate()));
        Assert.Single(StageGates.Check(gate, Candidate(metadata: """["owner"]""")));
    }

    [Fact]
    public void tags_do_not_satisfy_a_metadata_gate_and_have_their_own()
    {
        var metadataGate = GateOf(new StageGateOptions { Metadata = ["owner"] });
        var tagGate = GateOf(new StageGateOptions { Tags = ["owner"] });
        var tagged = Candidate(tags: new() { ["owner"] = "fraud-team" });

        Assert.Single(StageGates.Check(metadataGate, tagged));
        Assert.Empty(StageGates.Check(tagGate, tagged));
        Assert.Equal("tag", Assert.Single(StageGates.Check(tagGate, Candidate())).Kind);
    }

    [Fact]
    public void every_unmet_gate_is_reported_not_just_the_first()
    {
        var gate = GateOf(new StageGateOptions
        {
            Lineage = ["sourceCommit", "runId"], Metrics = ["auc >= 0.8", "f1 >= 0.5"], Metadata = ["owner"], Tags = ["reviewed"],
        });

        var unmet = StageGates.Check(gate, Candidate(metrics: new() { ["auc"] = 0.5 }));

        Assert.Equal(["lineage", "lineage", "metric", "metric", "metadata", "tag"], unmet.Select(u => u.Kind));
    }

    [Fact]
    public void a_promotion_that_misses_a_gate_is_a_conflict_listing_every_unmet_gate_and_appends_nothing()
    {
        var lifecycle = Gated(new StageGateOptions { Lineage = ["sourceCommit"], Metrics = ["auc >= 0.8"] });
        var model = Given.Model(versions: 1, lifecycle);

        var decision = ModelDecisions.TransitionStage(model, lifecycle, 1, "production", null, false, Candidate());

        var rejection = DecisionAssert.Rejected(decision, RejectionKind.Conflict, "Production", "lineage.sourceCommit", "auc >= 0.8");
        var unmet = Assert.IsAssignableFrom<IReadOnlyList<UnmetGate>>(rejection.Extensions!["unmetGates"]);
        Assert.Equal(2, unmet.Count);
    }

    [Fact]
    public void a_promotion_that_meets_every_gate_is_accepted()
    {
        var lifecycle = Gated(new StageGateOptions { Lineage = ["sourceCommit"], Metrics = ["auc >= 0.8"] });
        var model = Given.Model(versions: 1, lifecycle);
        var candidate = Candidate(new Lineage(null, null, "9fceb02", null), new() { ["auc"] = 0.9 });

        var transitioned = DecisionAssert.Single<ModelVersionStageTransitioned>(
            ModelDecisions.TransitionStage(model, lifecycle, 1, "Production", "ready", false, candidate));

        Assert.Equal("Production", transitioned.ToStage);
    }

    [Fact]
    public void a_gated_stage_admits_no_version_whose_view_is_not_given()
    {
        var lifecycle = Gated(new StageGateOptions { Lineage = ["runId"] });

        DecisionAssert.Rejected(ModelDecisions.TransitionStage(Given.Model(1, lifecycle), lifecycle, 1, "Production", null, false),
            RejectionKind.Conflict, "Production");
    }

    [Fact]
    public void stages_without_gates_are_not_checked()
    {
        var lifecycle = Gated(new StageGateOptions { Lineage = ["runId"] });

        DecisionAssert.Single<ModelVersionStageTransitioned>(
            ModelDecisions.TransitionStage(Given.Model(1, lifecycle), lifecycle, 1, "Staging", null, false, Candidate()));
    }

    [Fact]
    public void versions_displaced_by_archive_existing_are_not_gated_by_the_archive_stage()
    {
        var lifecycle = LifecycleGraph.From(new LifecycleOptions
        {
            Gates = new() { ["Archived"] = new StageGateOptions { Tags = ["retired-by"] } },
        });
        var model = Given.Model(2, lifecycle).InStage(1, "Production", lifecycle);

        var decision = ModelDecisions.TransitionStage(model, lifecycle, 2, "Production", null, archiveExisting: true,
            Candidate());

        Assert.Equal(2, decision.Events.Count);
    }

    [Fact]
    public void a_version_already_in_the_stage_is_not_checked_again()
    {
        var open = LifecycleGraph.Default;
        var model = Given.Model(1).InStage(1, "Production", open);
        var gated = Gated(new StageGateOptions { Lineage = ["runId"] });

        DecisionAssert.Unchanged(ModelDecisions.TransitionStage(model, gated, 1, "Production", null, false, Candidate()));
    }

    [Fact]
    public void configuration_mistakes_are_all_reported_at_startup()
    {
        var options = new LifecycleOptions
        {
            Gates = new()
            {
                ["Prod"] = new StageGateOptions { Lineage = ["runId"] },
                ["None"] = new StageGateOptions { Lineage = ["runId"] },
                ["Production"] = new StageGateOptions { Lineage = ["gitSha"], Metrics = ["auc ~ 0.8", "auc >= high", ">= 0.8"] },
            },
        };

        var error = Assert.Throws<InvalidOperationException>(() => LifecycleGraph.From(options));

        Assert.Contains("Registry:Lifecycle:Gates:Prod names a stage that does not exist", error.Message);
        Assert.Contains("None is the initial stage", error.Message);
        Assert.Contains("'gitSha', which is not a lineage field", error.Message);
        Assert.Contains("'auc ~ 0.8'", error.Message);
        Assert.Contains("'auc >= high'", error.Message);
        Assert.Contains("'>= 0.8'", error.Message);
    }
}
