using EventSourcedRegistry.Access;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.Audit;

public class when_summarising_events
{
    private static readonly Guid Id = Guid.NewGuid();

    public sealed record ModelVersionCanaried(Guid ModelId, int Version, int Percent);

    [Fact]
    public void each_event_reads_as_one_line()
    {
        Assert.Equal("version 2: None → Production", AuditSummary.Describe(new ModelVersionStageTransitioned(Id, 2, "None", "Production", null)));
        Assert.Equal("alias champion → version 3 (was version 2)", AuditSummary.Describe(new ModelAliasAssigned(Id, "champion", 3, 2)));
        Assert.Equal("alias champion → version 1", AuditSummary.Describe(new ModelAliasAssigned(Id, "champion", 1, null)));
        Assert.Equal("renamed \"a\" → \"b\"", AuditSummary.Describe(new ModelRenamed(Id, "a", "b")));
        Assert.Equal("model edited: description cleared; tags set: a, b; tags removed: c",
            AuditSummary.Describe(new ModelMetadataEdited(Id, "", new Dictionary<string, string> { ["b"] = "1", ["a"] = "2" }, ["c"])));
        Assert.Equal("version 3 deployed to production (eu-west), replacing version 2",
            AuditSummary.Describe(new ModelVersionDeployed(Id, 3, "production", "eu-west", 2)));
        Assert.Equal("version 3 undeployed from staging", AuditSummary.Describe(new ModelVersionUndeployed(Id, 3, "staging", null)));
        Assert.Equal("rolled back to sequence 41 (2 changes)", AuditSummary.Describe(new RollbackPerformed(Id, 41, null, "bad release", 2)));
    }

    [Fact]
    public void metadata_standard_changes_read_as_one_line_naming_what_the_schema_demands()
    {
        var schema = System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>(
            """{"title":"Model card","required":["owner","intendedUse"]}""");
        Assert.Equal("metadata schema set (\"Model card\"; requires owner, intendedUse)",
            AuditSummary.Describe(new ModelMetadataSchemaSet(Id, schema)));
        Assert.Equal("metadata schema removed", AuditSummary.Describe(new ModelMetadataSchemaRemoved(Id)));
        Assert.Equal("registry metadata schema set (17 bytes)",
            AuditSummary.Describe(new EventSourcedRegistry.Settings.RegistryMetadataSchemaSet(
                System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>("""{"type":"object"}"""))));
        Assert.Equal("registry metadata schema removed", AuditSummary.Describe(new EventSourcedRegistry.Settings.RegistryMetadataSchemaRemoved()));
        Assert.Equal("workspace policy set: lifecycle from configuration, approvals own",
            AuditSummary.Describe(new EventSourcedRegistry.Settings.WorkspacePolicySet(null, new(["Staging"], [], 2, null))));
        Assert.Equal("workspace policy set: lifecycle from configuration, approvals from configuration, rate limits own, artifact quota 1024 bytes",
            AuditSummary.Describe(new EventSourcedRegistry.Settings.WorkspacePolicySet(null, null, new(null, null, 5, 10, null, null), 1024)));
        Assert.Equal("workspace policy removed (configuration defaults apply)",
            AuditSummary.Describe(new EventSourcedRegistry.Settings.WorkspacePolicyRemoved()));
    }

    [Fact]
    public void key_events_name_the_key_its_owner_and_grants_but_never_a_secret()
    {
        var model = Guid.Parse("0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850");
        Assert.Equal("API key \"churn-ci\" (id 3f2a) created for churn-training: contributor on churn, reader",
            AuditSummary.Describe(new ApiKeyCreated("3f2a", "churn-ci", "churn-training", [new KeyGrant("contributor", model, "churn"), new KeyGrant("reader")], ["alice"])));
        Assert.Equal("API key \"churn-ci\" (id 3f2a) of churn-training revoked", AuditSummary.Describe(new ApiKeyRevoked("3f2a", "churn-ci", "churn-training")));
        Assert.Equal("API key \"ops\" (id 0a1b) recorded at upgrade as its own owner key:ops: admin; made by bootstrap at 2026-02-01T08:00:00Z",
            AuditSummary.Describe(new ApiKeyRecorded("0a1b", "ops", "key:ops", [new KeyGrant("admin")], [], "bootstrap",
                DateTimeOffset.Parse("2026-02-01T09:00:00+01:00"), null, null)));
        Assert.Null(AuditSummary.VersionOf(new ApiKeyRevoked("3f2a", "churn-ci", "churn-training")));
    }

    [Fact]
    public void approvals_name_the_owner_four_eyes_judged_and_read_as_before_without_one()
    {
        var request = Guid.Parse("01900000-0000-7000-8000-000000000001");
        var sha = new string('a', 64);
        Assert.Equal($"key:ben approved request {request} (sha256 aaaaaaaaaaaa…; owner ben@example.com, key 9e8d)",
            AuditSummary.Describe(new TransitionApproved(Id, request, "key:ben", sha, DateTimeOffset.UnixEpoch, null, false, "ben@example.com", "9e8d", [])));
        Assert.Equal($"key:ben approved request {request} (sha256 aaaaaaaaaaaa…)",
            AuditSummary.Describe(new TransitionApproved(Id, request, "key:ben", sha, DateTimeOffset.UnixEpoch, null, false)));
        Assert.Equal($"requested version 3 → Production (sha256 aaaaaaaaaaaa…; request {request}; owner alice, key 3f2a)",
            AuditSummary.Describe(new TransitionRequested(Id, request, TransitionKinds.Stage, 3, "Production", false, sha, "key:alice-ci", null,
                DateTimeOffset.UnixEpoch, "alice", "3f2a", [])));
    }

    [Fact]
    public void the_version_comes_from_any_event_that_names_one_and_unknown_events_still_read()
    {
        Assert.Equal(4, AuditSummary.VersionOf(new ModelVersionStageTransitioned(Id, 4, "None", "Staging", null)));
        Assert.Null(AuditSummary.VersionOf(new ModelArchived(Id)));
        Assert.Equal(5, AuditSummary.VersionOf(new ModelVersionCanaried(Id, 5, 10)));
        Assert.Equal("model version canaried (version 5)", AuditSummary.Describe(new ModelVersionCanaried(Id, 5, 10)));
    }

    [Fact]
    public void a_stage_transition_keeps_its_own_reason()
    {
        Assert.Equal("beats baseline", AuditSummary.ReasonOf(new ModelVersionStageTransitioned(Id, 1, "None", "Staging", "beats baseline")));
        Assert.Null(AuditSummary.ReasonOf(new ModelVersionStageTransitioned(Id, 1, "None", "Staging", null)));
        Assert.Null(AuditSummary.ReasonOf(new ModelArchived(Id)));
        Assert.Equal("bad release", AuditSummary.ReasonOf(new RollbackPerformed(Id, 41, null, "bad release", 2)));
    }
}
