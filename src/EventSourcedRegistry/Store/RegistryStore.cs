using EventSourcedRegistry.Access;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Idempotency;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Workspaces;
using JasperFx.Events;
using JasperFx.Events.Projections;
using JasperFx.MultiTenancy;
using Marten;
using Marten.Schema;
using Marten.Schema.Indexing.Unique;
using Marten.Storage;
using Weasel.Core;

namespace EventSourcedRegistry.Store;

public static class RegistryStore
{
    public const string Schema = "registry";

    /// <summary>
    /// Everything the registry keeps in Marten: events and their metadata, inline views, the name index, idempotency
    /// records. <paramref name="snapshotEvery"/>: stream versions between two model-view snapshots (time travel).
    /// </summary>
    public static StoreOptions ConfigureRegistry(this StoreOptions options, int snapshotEvery = ModelSnapshots.DefaultInterval)
    {
        options.DatabaseSchemaName = Schema;
        // Workspaces (docs/design/workspaces.md §3.1): a workspace is a Marten tenant. Every document row carries its
        // tenant, and every workspace has its own event partition, sequence and high-water mark, so neither its
        // records nor its counts are visible to another. Marten's *DEFAULT* tenant gets no partition: a session opened
        // without a workspace fails closed instead of landing in a real one. Before any Schema.For<…>() below: the
        // policy applies when a document mapping is built.
        options.Events.TenancyStyle = TenancyStyle.Conjoined;
        options.Events.UseTenantPartitionedEvents = true;
        options.Policies.AllDocumentsAreMultiTenanted();
        // Slugs are lower-case already; one spelling per workspace whatever a caller sends.
        options.TenantIdStyle = TenantIdStyle.ForceLowerCase;
        // Stored client JSON is as deep as the input allows, and documents wrap it further (CanonicalInput.StoredMaxDepth).
        // A model view stores its versions by stage as runs (VersionRuns): it is rewritten at every command on the model.
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, json =>
        {
            json.MaxDepth = CanonicalInput.StoredMaxDepth;
            VersionRuns.StoreModelViewStagesAsRuns(json);
        });

        options.Events.StreamIdentity = StreamIdentity.AsGuid;
        // Quick: timestamps come from PostgreSQL's clock, not from whichever API node appended the event.
        options.Events.AppendMode = EventAppendMode.Quick;
        // Registry changes filter by event type; time travel resolves instants to sequences by timestamp.
        options.Events.EnableEventTypeIndex = true;
        // Inline views read their event's store-assigned sequence and time by event id.
        options.Events.EnableUniqueIndexOnEventId = true;
        options.Events.IgnoreIndex(EventTimestampIndex);
        options.Events.MetadataConfig.EnableAll();
        options.Events.MetadataConfig.UserNameEnabled = true;
        options.Events.AddEventTypes(EventTypes);

        options.Projections.Add(new ModelViewProjection(), ProjectionLifecycle.Inline);
        options.Projections.Add(new ModelVersionViewProjection(), ProjectionLifecycle.Inline);
        options.Projections.Add(new DeploymentHistoryProjection(Schema), ProjectionLifecycle.Inline);
        options.Storage.ExtendedSchemaObjects.Add(RegistryStates.Define(Schema));
        options.Projections.Add(new RegistryStateProjection(Schema), ProjectionLifecycle.Inline);
        options.Projections.Add(new RegistrySettingsProjection(), ProjectionLifecycle.Inline);
        options.Projections.Add(new TransitionRequestsViewProjection(), ProjectionLifecycle.Inline);
        // The workspace directory, in the platform tenant (see WorkspaceDirectoryStream).
        options.Projections.Add(new WorkspaceViewProjection(), ProjectionLifecycle.Inline);
        options.Projections.Add(new WorkspaceDirectoryHeadProjection(), ProjectionLifecycle.Inline);
        options.Storage.ExtendedSchemaObjects.Add(ModelSnapshots.Define(Schema));
        options.Projections.Add(new ModelSnapshotProjection(Schema, snapshotEvery), ProjectionLifecycle.Inline);
        options.Storage.ExtendedSchemaObjects.Add(SettledInstants.Define(Schema));

        // Names are unique per workspace: Duplicate(…, IsUnique) would stay unique across every workspace under
        // conjoined tenancy, so one workspace's "churn" would refuse another's.
        options.Schema.For<ModelView>().UniqueIndex(UniqueIndexType.DuplicatedField, ModelNameUniqueIndex,
            TenancyScope.PerTenant, x => x.NormalizedName);
        // Tag filters read the model_tags table (ModelTagIndex), kept by triggers on this table: no GIN index on the
        // tags to update on every command.
        // Created by the host with the model_tags table; Marten is told to leave it be.
        options.Schema.For<ModelView>().IgnoreIndex(ModelTagIndex.NamePatternIndex);
        options.Schema.For<ModelView>().IgnoreIndex(ModelTagIndex.TenantNameIndex);
        options.Schema.For<ModelVersionView>().Duplicate(x => x.ModelId);
        // Numeric revisions, as when a multi-stream projection kept these documents: their table's mt_version stays a
        // number (a store written before ModelVersionViewProjection became an IProjection keeps its schema, and the upgrade
        // of a store from before workspaces copies its rows as they are).
        options.Schema.For<ModelVersionView>().UseNumericRevisions(true);
        // The same: its table was a single-stream projection's (numeric revisions) before the projection became an IProjection.
        options.Schema.For<TransitionRequestsView>().UseNumericRevisions(true);
        // Which versions reference a stored artifact: what decides who may read it.
        options.Schema.For<ModelVersionView>().Index(x => x.Artifact.Sha256);
        options.Schema.For<ArtifactUpload>().Duplicate(x => x.Sha256);
        // A listing of the MLflow artifact proxy reads one directory's files.
        options.Schema.For<Mlflow.MlflowArtifactFile>().Duplicate(x => x.Directory);
        options.Schema.For<ModelNameIndex>();
        // A column of its own (indexed) for the retention purge's range delete.
        options.Schema.For<IdempotencyRecord>().Duplicate(x => x.StoredAt);
        options.AddAuditTrail();
        // Last: it builds the views' document mappings, after which a Schema.For<…>() change would be lost.
        options.KeepStreamLookupOutOfViewUpserts();
        return options;
    }

    /// <summary>The unique index on a model's normalized name, within its workspace.</summary>
    public const string ModelNameUniqueIndex = "ux_modelview_normalized_name";

    /// <summary>The inline single-stream views whose revision is their stream's version, set by their own Evolve.</summary>
    public static readonly Type[] StreamVersionedViews = [typeof(ModelView), typeof(RegistrySettings), typeof(TransitionRequestsView)];

    /// <summary>
    /// Marten's upsert of an inline single-stream view reads its revision from <c>mt_streams</c> with a subquery keyed
    /// on the row's tenant column, which PostgreSQL cannot prune to one partition: with 1,000 workspaces every command
    /// paid ≈ 90 ms for it (docs/design/workspaces.md §5 #1). These views set <c>Revision = e.Version</c> themselves, so
    /// the lookup is switched off. Marten 9.59 has no public setting for it (StorageFeatures.MappingFor is internal),
    /// hence reflection; <c>when_workspaces_share_one_store</c> pins that it took effect and that the revision still
    /// follows the stream. Remove once Marten binds the known tenant or offers an opt-out.
    /// </summary>
    private static void KeepStreamLookupOutOfViewUpserts(this StoreOptions options)
    {
        foreach (var view in StreamVersionedViews) MappingOf(options, view).UseVersionFromMatchingStream = false;
    }

    /// <summary>Whether the upsert of <paramref name="view"/> still reads its revision from <c>mt_streams</c> (§5 #1; pinned by a test).</summary>
    public static bool ReadsRevisionFromStream(IDocumentStore store, Type view) =>
        MappingOf((StoreOptions)store.Options, view).UseVersionFromMatchingStream;

    private static DocumentMapping MappingOf(StoreOptions options, Type document)
    {
        var mappingFor = typeof(StorageFeatures).GetMethod("MappingFor",
                             System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public,
                             [typeof(Type)])
                         ?? throw new InvalidOperationException("Marten no longer has StorageFeatures.MappingFor(Type): revisit the §5 #1 workaround in RegistryStore.");
        return (DocumentMapping)mappingFor.Invoke(options.Storage, [document])!;
    }

    /// <summary>Created by the host after Marten's migration (Marten does not model it, and is told to leave it be).</summary>
    public const string EventTimestampIndex = "ix_mt_events_timestamp";

    public static string CreateEventTimestampIndexSql =>
        $"create index if not exists {EventTimestampIndex} on {Schema}.mt_events (timestamp, seq_id)";

    /// <summary>Every event the registry appends. Registered up front so a replay never meets an unknown type.</summary>
    public static readonly Type[] EventTypes =
    [
        typeof(ModelRegistered), typeof(ModelRenamed), typeof(ModelMetadataEdited), typeof(ModelArchived),
        typeof(ModelRestored), typeof(ModelVersionRegistered), typeof(ModelVersionMetadataEdited),
        typeof(ModelVersionStageTransitioned), typeof(ModelAliasAssigned), typeof(ModelAliasRemoved),
        typeof(ModelVersionDeployed), typeof(ModelVersionUndeployed), typeof(RollbackPerformed),
        // Recorded deletions (tombstones): the model's current views go, its events stay.
        typeof(ModelDeleted), typeof(ModelVersionDeleted),
        // Metadata standards: a model's own, and the registry's in the settings stream.
        typeof(ModelMetadataSchemaSet), typeof(ModelMetadataSchemaRemoved),
        typeof(RegistryMetadataSchemaSet), typeof(RegistryMetadataSchemaRemoved),
        // A workspace's own policy (lifecycle, gates, approvals), in the same settings stream.
        typeof(WorkspacePolicySet), typeof(WorkspacePolicyRemoved),
        typeof(TransitionRequested), typeof(TransitionApproved), typeof(TransitionRejected),
        // API keys made, revoked, or recorded at an upgrade, in the access stream.
        typeof(ApiKeyCreated), typeof(ApiKeyRevoked), typeof(ApiKeyRecorded),
        // Webhook subscriptions made, paused, resumed, rotated, deleted, replayed, in the access stream.
        typeof(Webhooks.WebhookSubscriptionCreated), typeof(Webhooks.WebhookSubscriptionPaused), typeof(Webhooks.WebhookSubscriptionResumed),
        typeof(Webhooks.WebhookSecretRotated), typeof(Webhooks.WebhookSubscriptionDeleted), typeof(Webhooks.WebhookDeliveriesReplayed),
        // Workspaces created, renamed, archived, in the platform's directory stream.
        typeof(WorkspaceCreated), typeof(WorkspaceRenamed), typeof(WorkspaceArchived),
    ];

    /// <summary>The streams that are not a model's: the registry's settings, its access (API key) events and the workspace directory.</summary>
    public static readonly IReadOnlySet<Guid> RegistryStreams = new HashSet<Guid> { RegistrySettings.StreamId, AccessStream.Id, WorkspaceDirectoryStream.Id };
}
