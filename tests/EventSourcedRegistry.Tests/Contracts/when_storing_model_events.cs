using System.Reflection;
using System.Runtime.CompilerServices;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Tests.Support;
using EventSourcedRegistry.Webhooks;
using EventSourcedRegistry.Workspaces;
using Snapshooter.Xunit;

namespace EventSourcedRegistry.Tests.Contracts;

/// <summary>
/// Events are a permanent contract. Each event type's JSON, exactly as the store writes it, is committed as
/// <c>__snapshots__/&lt;EventType&gt;.snap</c>. A mismatch means a stored shape changed: that needs an upcaster and an
/// "Event Schema Changes" entry in CHANGELOG.md, not a refreshed snapshot.
/// </summary>
public class when_storing_model_events
{
    private static readonly Guid ModelId = Guid.Parse("0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850");
    private static readonly Guid RequestId = Guid.Parse("01958f2a-6b1c-7d3e-8f40-5a6b7c8d9e0f");
    private const string Sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static void MatchesItsContract(object @event) => Snapshot.Match(EventJson.Stored(@event), @event.GetType().Name);

    [Fact]
    public void model_registered_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelRegistered(ModelId, "Churn-Predictor", "Predicts churn from usage.",
            new Dictionary<string, string> { ["team"] = "growth", ["CostCenter"] = "CC-42" }));

    [Fact]
    public void model_renamed_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelRenamed(ModelId, "Churn-Predictor", "Retention-Predictor"));

    [Fact]
    public void model_metadata_edited_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelMetadataEdited(ModelId, "Predicts churn weekly.",
            new Dictionary<string, string> { ["tier"] = "gold" }, ["CostCenter"]));

    [Fact]
    public void model_archived_is_stored_as_its_contract() => MatchesItsContract(new ModelArchived(ModelId));

    [Fact]
    public void model_restored_is_stored_as_its_contract() => MatchesItsContract(new ModelRestored(ModelId));

    [Fact]
    public void model_version_registered_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelVersionRegistered(ModelId, 3, "None",
            new ArtifactReference("s3://models/churn/3/model.onnx", Sha256, 52_428_800),
            new Lineage("run-2024-06-01-42", "https://git.example.com/ml/churn", "9fceb02d0ae598e95dc970b74767f19372d61af8",
                [new DatasetReference("s3://data/churn/2024-06.parquet", Sha256), new DatasetReference("s3://data/churn/labels.csv", null)]),
            new Dictionary<string, string> { ["learning_rate"] = "0.01", ["max_depth"] = "6" },
            new Dictionary<string, double> { ["auc"] = 0.91, ["f1"] = 0.78, ["rows"] = 1200000 },
            new Dictionary<string, string> { ["candidate"] = "true" },
            "Retrained on June data.",
            Given.Json("""{"framework":"onnx","opset":17,"inputs":[{"name":"features","shape":[1,32]}],"quantized":false}""")));

    /// <summary>An MLflow <c>source</c> without a digest: an unverified reference (empty sha256), its run id and run link as lineage.</summary>
    [Fact]
    public void model_version_registered_from_an_mlflow_source_is_stored_as_its_contract() =>
        Snapshot.Match(EventJson.Stored(new ModelVersionRegistered(ModelId, 1, "None", new ArtifactReference("s3://bucket/churn/1/model", "", null),
            new Lineage("r1", null, null, null, "https://mlflow.example.com/#/experiments/1/runs/r1"),
            new Dictionary<string, string>(), new Dictionary<string, double>(), new Dictionary<string, string> { ["framework"] = "sklearn" },
            "first candidate", null)), "ModelVersionRegistered_MlflowSource");

    /// <summary>An <c>mlflow-artifacts:</c> source whose files are on the registry's store: the digest of their manifest, verified.</summary>
    [Fact]
    public void model_version_registered_on_mlflow_artifacts_of_the_store_is_stored_as_its_contract() =>
        Snapshot.Match(EventJson.Stored(new ModelVersionRegistered(ModelId, 1, "None",
            new ArtifactReference("mlflow-artifacts:/churn/1/model", Sha256, 2106, Verified: true), null,
            new Dictionary<string, string>(), new Dictionary<string, double>(), new Dictionary<string, string>(), null, null)),
            "ModelVersionRegistered_MlflowArtifacts");

    [Fact]
    public void an_artifact_reference_stored_before_verified_existed_reads_as_it_did()
    {
        var old = EventJson.Deserialize<ModelVersionRegistered>(
            $$$"""{"modelId":"{{{ModelId}}}","version":1,"stage":"None","artifact":{"uri":"s3://bucket/churn/1/model","sha256":"","sizeBytes":null},"lineage":null,"params":{},"metrics":{},"tags":{},"description":null,"metadata":null}""");
        Assert.Equal(new ArtifactReference("s3://bucket/churn/1/model", "", null), old.Artifact);
        Assert.False(old.Artifact.IsVerified());
        Assert.True(new ArtifactReference(null, Sha256, 1).IsVerified());
        // A digest declared with an external URI was never checked by the registry.
        Assert.False(new ArtifactReference("s3://bucket/model.onnx", Sha256, 1).IsVerified());
    }

    [Fact]
    public void model_version_metadata_edited_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelVersionMetadataEdited(ModelId, 3, "Quantized to int8.",
            new Dictionary<string, string> { ["runtime"] = "onnxruntime-1.18" }, ["candidate"],
            Given.Json("""{"framework":"onnx","opset":17,"quantized":true}""")));

    [Fact]
    public void model_version_stage_transitioned_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelVersionStageTransitioned(ModelId, 3, "Staging", "Production", "AUC above 0.9 on the holdout set."));

    [Fact]
    public void model_alias_assigned_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelAliasAssigned(ModelId, "champion", 3, 2));

    [Fact]
    public void model_alias_removed_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelAliasRemoved(ModelId, "champion", 3));

    [Fact]
    public void model_version_deployed_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelVersionDeployed(ModelId, 3, "production", "eu-west-1", 2));

    [Fact]
    public void model_version_undeployed_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelVersionUndeployed(ModelId, 3, "production", null));

    [Fact]
    public void rollback_performed_is_stored_as_its_contract() =>
        MatchesItsContract(new RollbackPerformed(ModelId, 1234, DateTimeOffset.Parse("2026-03-03T14:00:00+00:00"), "v3 broke checkout", 3));

    [Fact]
    public void model_deleted_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelDeleted(ModelId, "Churn-Predictor", 7, "Retired: replaced by retention-predictor."));

    [Fact]
    public void model_version_deleted_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelVersionDeleted(ModelId, 3, "Archived", "Trained on a leaked label column."));

    [Fact]
    public void model_metadata_schema_set_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelMetadataSchemaSet(ModelId,
            Given.Json("""{"title":"Model card","type":"object","required":["owner"],"properties":{"owner":{"type":"string"}}}""")));

    [Fact]
    public void model_metadata_schema_removed_is_stored_as_its_contract() =>
        MatchesItsContract(new ModelMetadataSchemaRemoved(ModelId));

    [Fact]
    public void registry_metadata_schema_set_is_stored_as_its_contract() =>
        MatchesItsContract(new RegistryMetadataSchemaSet(
            Given.Json("""{"type":"object","required":["owner","intendedUse"],"properties":{"owner":{"type":"string","minLength":1}}}""")));

    [Fact]
    public void registry_metadata_schema_removed_is_stored_as_its_contract() =>
        MatchesItsContract(new RegistryMetadataSchemaRemoved());

    [Fact]
    public void workspace_policy_set_is_stored_as_its_contract() =>
        MatchesItsContract(new WorkspacePolicySet(
            new LifecyclePolicy(["None", "Canary", "Production", "Archived"], "None", "Archived",
                new Dictionary<string, IReadOnlyList<string>> { ["None"] = ["Canary", "Archived"], ["Canary"] = ["Production", "None", "Archived"] },
                new Dictionary<string, StageGatePolicy> { ["Production"] = new(["runId"], ["auc >= 0.9"], ["/training/dataset"], ["owner"]) }),
            new ApprovalsPolicy(["Production"], ["champion"], 2, TimeSpan.FromDays(3)),
            new RateLimitsPolicy(500, 1000, 20, 40, null, null),
            10_737_418_240));

    /// <summary>
    /// rateLimits and artifactQuotaBytes were added to <see cref="WorkspacePolicySet"/> later: an event stored before them
    /// (this JSON, the contract up to then) reads with both null, so it decides exactly as it did.
    /// </summary>
    [Fact]
    public void workspace_policy_set_stored_before_limits_existed_reads_as_it_did()
    {
        const string storedBefore = """
            {"lifecycle":null,"approvals":{"protectedStages":["Production"],"protectedAliases":["champion"],"requiredApprovals":2,"approvalLifetime":"3.00:00:00"}}
            """;

        var read = EventJson.Deserialize<WorkspacePolicySet>(storedBefore);

        Assert.Null(read.Lifecycle);
        Assert.Null(read.RateLimits);
        Assert.Null(read.ArtifactQuotaBytes);
        Assert.Equal(EventJson.Canonical(new WorkspacePolicySet(null, new ApprovalsPolicy(["Production"], ["champion"], 2, TimeSpan.FromDays(3)))),
            EventJson.Canonical(read));
    }

    [Fact]
    public void workspace_policy_set_with_only_approvals_is_stored_with_a_null_lifecycle() =>
        Assert.Contains("\"lifecycle\":null", EventJson.Serialize(new WorkspacePolicySet(null, new ApprovalsPolicy(null, [], null, null))));

    [Fact]
    public void workspace_policy_removed_is_stored_as_its_contract() =>
        MatchesItsContract(new WorkspacePolicyRemoved());

    [Fact]
    public void transition_requested_is_stored_as_its_contract() =>
        MatchesItsContract(new TransitionRequested(ModelId, RequestId, TransitionKinds.Stage, 3, "Production", true, Sha256,
            "key:training-pipeline", "AUC above 0.9 on the holdout set.", DateTimeOffset.Parse("2026-03-03T13:45:00+00:00"),
            "churn-training", "3f2a9c1d0b8e7f65", ["alice@example.com", "key:bootstrap-admin"]));

    [Fact]
    public void transition_approved_is_stored_as_its_contract() =>
        MatchesItsContract(new TransitionApproved(ModelId, RequestId, "key:release-manager", Sha256,
            DateTimeOffset.Parse("2026-03-03T14:00:00+00:00"), "Reviewed the eval report.", true,
            "bob@example.com", "9e8d7c6b5a403122", ["key:bootstrap-admin"]));

    [Fact]
    public void api_key_created_is_stored_as_its_contract() =>
        MatchesItsContract(new ApiKeyCreated("3f2a9c1d0b8e7f65", "churn-ci", "churn-training",
            [new KeyGrant("contributor", ModelId, "Churn-Predictor"), new KeyGrant("reader")], ["alice@example.com", "key:bootstrap-admin"]));

    [Fact]
    public void a_platform_keys_grants_name_their_workspace_in_the_contract() =>
        Snapshot.Match(EventJson.Stored(new ApiKeyCreated("5e6f708192a3b4c5", "fleet-auditor", "audit@example.com",
            [new KeyGrant("auditor", Workspace: "team-a"), new KeyGrant("reader", ModelId, "Churn-Predictor", "team-b"), new KeyGrant("platform-admin")],
            ["key:bootstrap-admin"])), "ApiKeyCreated_PlatformKey");

    [Fact]
    public void a_grant_stored_before_workspaces_reads_as_one_in_the_keys_own_workspace()
    {
        var old = EventJson.Deserialize<ApiKeyCreated>(
            """{"keyId":"3f2a9c1d0b8e7f65","name":"churn-ci","owner":"churn-training","grants":[{"role":"reader","modelId":null,"model":null}],"issuers":[]}""");
        Assert.Equal(new KeyGrant("reader"), Assert.Single(old.Grants));
    }

    [Fact]
    public void api_key_revoked_is_stored_as_its_contract() =>
        MatchesItsContract(new ApiKeyRevoked("3f2a9c1d0b8e7f65", "churn-ci", "churn-training"));

    [Fact]
    public void api_key_recorded_is_stored_as_its_contract() =>
        MatchesItsContract(new ApiKeyRecorded("0a1b2c3d4e5f6071", "release-manager", "key:release-manager", [new KeyGrant("approver")],
            ["key:bootstrap-admin"], "key:bootstrap-admin", DateTimeOffset.Parse("2026-02-01T08:00:00+00:00"),
            "key:ops-admin", DateTimeOffset.Parse("2026-02-20T17:30:00+00:00")));

    private static readonly Guid SubscriptionId = Guid.Parse("0195f0a1-0000-7000-8000-000000000001");

    [Fact]
    public void webhook_subscription_created_is_stored_as_its_contract() =>
        MatchesItsContract(new WebhookSubscriptionCreated(SubscriptionId, "https://cd.example.com/hooks/registry",
            ["model_version_stage_transitioned", "model_alias_assigned"], ModelId, "Churn-Predictor", 1042));

    [Fact]
    public void webhook_subscription_paused_is_stored_as_its_contract() =>
        MatchesItsContract(new WebhookSubscriptionPaused(SubscriptionId, "The receiver answered 410 Gone."));

    [Fact]
    public void webhook_subscription_resumed_is_stored_as_its_contract() => MatchesItsContract(new WebhookSubscriptionResumed(SubscriptionId));

    [Fact]
    public void webhook_secret_rotated_is_stored_as_its_contract() => MatchesItsContract(new WebhookSecretRotated(SubscriptionId));

    [Fact]
    public void webhook_subscription_deleted_is_stored_as_its_contract() =>
        MatchesItsContract(new WebhookSubscriptionDeleted(SubscriptionId, "https://cd.example.com/hooks/registry"));

    [Fact]
    public void webhook_deliveries_replayed_is_stored_as_its_contract() =>
        MatchesItsContract(new WebhookDeliveriesReplayed(SubscriptionId, [1043, 1077]));

    [Fact]
    public void transition_rejected_is_stored_as_its_contract() =>
        MatchesItsContract(new TransitionRejected(ModelId, RequestId, "key:release-manager", "Recall dropped for EU customers.",
            DateTimeOffset.Parse("2026-03-03T14:05:00+00:00")));

    [Fact]
    public void workspace_created_is_stored_as_its_contract() =>
        MatchesItsContract(new WorkspaceCreated("team-a", "Team A (fraud models)"));

    [Fact]
    public void workspace_renamed_is_stored_as_its_contract() =>
        MatchesItsContract(new WorkspaceRenamed("team-a", "Team A (risk models)"));

    [Fact]
    public void workspace_archived_is_stored_as_its_contract() => MatchesItsContract(new WorkspaceArchived("team-a"));

    [Fact]
    public void property_names_are_camel_case_but_tag_params_and_metric_keys_are_stored_as_given()
    {
        var json = EventJson.Serialize(new ModelVersionRegistered(ModelId, 1, "None", new ArtifactReference(null, Sha256, null), null,
            new Dictionary<string, string> { ["Max_Depth"] = "6" }, new Dictionary<string, double> { ["AUC"] = 0.9 },
            new Dictionary<string, string> { ["CostCenter"] = "CC-42" }, null, null));

        Assert.Contains("\"modelId\":", json);
        Assert.Contains("\"sha256\":", json);
        Assert.DoesNotContain("\"ModelId\":", json);
        Assert.Contains("\"Max_Depth\":", json);
        Assert.Contains("\"AUC\":", json);
        Assert.Contains("\"CostCenter\":", json);
    }

    [Fact]
    public void every_event_type_has_a_contract_snapshot()
    {
        var events = EventTypes();
        Assert.Contains(typeof(ModelRegistered), events);
        Assert.Contains(typeof(ModelAliasRemoved), events);
        Assert.Contains(typeof(TransitionApproved), events);
        Assert.DoesNotContain(typeof(ArtifactReference), events);

        var missing = events.Where(t => !File.Exists(Path.Combine(SnapshotDirectory(), $"{t.Name}.snap"))).Select(t => t.Name);

        Assert.Empty(missing);
    }

    [Fact]
    public void every_contract_snapshot_belongs_to_an_event_type()
    {
        var names = EventTypes().Select(t => t.Name).ToHashSet();

        // <EventType>.snap, or <EventType>_<case>.snap for a second shape of one event (a platform key's grants).
        var orphans = Directory.GetFiles(SnapshotDirectory(), "*.snap").Select(Path.GetFileNameWithoutExtension).Where(n => !names.Contains(n!.Split('_')[0]));

        Assert.Empty(orphans);
    }

    /// <summary>
    /// Events, by the catalogue's convention: sealed records in the models or approvals namespace whose first parameter is
    /// the model id; and every type the store registers (which adds the registry's settings and access events, whose
    /// streams are not a model's).
    /// </summary>
    private static List<Type> EventTypes() =>
        typeof(ModelRegistered).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsSealed: true, Namespace: "EventSourcedRegistry.Models" or "EventSourcedRegistry.Approvals" })
            .Where(t => t.GetMethod("<Clone>$") is not null)
            .Where(t => t.GetConstructors().Any(c => c.GetParameters() is [{ Name: "ModelId" } first, ..] && first.ParameterType == typeof(Guid)))
            .Union(RegistryStore.EventTypes)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();

    private static string SnapshotDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "__snapshots__");
}
