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
