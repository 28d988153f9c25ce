using EventSourcedRegistry.Store;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Weasel.Postgresql.Tables;

namespace EventSourcedRegistry.Audit;

/// <summary>
/// The audit trail's storage: the audit log and the hash chain are plain tables written by two async
/// projections (so auditors' queries never slow down commands), plus signed checkpoints as documents.
/// Everything is per workspace: each table's rows carry the workspace's tenant id in a <c>tenant_id</c> column that
/// leads every key and index (the name Marten's per-tenant rebuild deletes by), each workspace's chain starts at its own
/// genesis, and checkpoints are documents of the workspace's tenant. The operator's chain over every workspace's
/// checkpoint heads is kept in the platform tenant (<see cref="OperatorChain"/>).
/// </summary>
public static class AuditTrail
{
    public const string AuditLogProjectionName = "AuditLog";
    public const string HashChainProjectionName = "AuditChain";

    public const string AuditLogTable = RegistryStore.Schema + ".audit_log";
    public const string ModelNamesTable = RegistryStore.Schema + ".audit_model_names";
    public const string ChainTable = RegistryStore.Schema + ".audit_chain";
    public const string OperatorChainTable = RegistryStore.Schema + ".audit_operator_chain";
    public const string EventsTable = RegistryStore.Schema + ".mt_events";
    public const string ProgressionTable = RegistryStore.Schema + ".mt_event_progression";

    /// <summary>Tables the projections own. A reset of the event store must empty them too.</summary>
    public static readonly string[] Tables = [AuditLogTable, ModelNamesTable, ChainTable, OperatorChainTable];

    /// <summary>The column every audit table leads its keys with: exactly Marten's name, so a per-tenant teardown deletes one workspace's rows.</summary>
    public const string TenantColumn = "tenant_id";

    public static StoreOptions AddAuditTrail(this StoreOptions options)
    {
        options.Storage.ExtendedSchemaObjects.Add(AuditLog());
        options.Storage.ExtendedSchemaObjects.Add(ModelNames());
        options.Storage.ExtendedSchemaObjects.Add(Chain());
        options.Storage.ExtendedSchemaObjects.Add(OperatorChainLinks());

        options.Projections.Add(new AuditLogProjection(), ProjectionLifecycle.Async, AuditLogProjectionName, async =>
        {
            // A rebuild starts the log afresh; the rows are facts derived from the events, nothing else. Rebuilt for one
            // workspace, Marten deletes only that workspace's rows (by the tenant_id column).
            async.DeleteDataInTableOnTeardown(AuditLogTable);
            async.DeleteDataInTableOnTeardown(ModelNamesTable);
        });
        // No teardown for the chain: a rebuild must never re-derive (and so launder) links that already exist.
        options.Projections.Add(new HashChainProjection(), ProjectionLifecycle.Async, HashChainProjectionName);

        options.Schema.For<AuditCheckpoint>();
        return options;
    }

    /// <summary>
    /// The workspace (tenant) of a batch the async daemon hands a projection: one tenant per batch under per-tenant
    /// partitioning. A batch whose events name another tenant, or a session without one, is a fault: writing it would
    /// put one workspace's record into another's.
    /// </summary>
    public static string BatchTenant(IDocumentOperations operations, IReadOnlyList<IEvent> events)
    {
        var tenant = operations.TenantId;
        if (string.IsNullOrEmpty(tenant) || tenant == JasperFx.StorageConstants.DefaultTenantId)
            throw new InvalidOperationException("An audit projection was handed a batch without a workspace (tenant).");
        foreach (var e in events)
            if (e.TenantId != tenant)
                throw new InvalidOperationException(
                    $"An audit projection batch of workspace '{tenant}' holds event {e.Sequence} of workspace '{e.TenantId}'; nothing of it was written.");
        return tenant;
    }

    private static Table AuditLog()
    {
        var table = new Table(AuditLogTable);
        table.AddColumn(TenantColumn, "text").AsPrimaryKey();
        table.AddColumn("seq_id", "bigint").AsPrimaryKey();
        table.AddColumn("timestamp", "timestamptz").NotNull();
        table.AddColumn("model_id", "uuid").NotNull();
        table.AddColumn("model_name", "text");
        table.AddColumn("version", "integer");
        table.AddColumn("event_type", "text").NotNull();
        table.AddColumn("actor", "text");
        table.AddColumn("reason", "text");
        table.AddColumn("correlation_id", "text");
        table.AddColumn("causation_id", "text");
        table.AddColumn("summary", "text").NotNull();
        // Every filter is paired with seq_id so keyset paging stays an index range scan.
        table.Indexes.Add(new IndexDefinition("ix_audit_log_model") { Columns = [TenantColumn, "model_id", "seq_id"] });
        table.Indexes.Add(new IndexDefinition("ix_audit_log_actor") { Columns = [TenantColumn, "actor", "seq_id"] });
        table.Indexes.Add(new IndexDefinition("ix_audit_log_type") { Columns = [TenantColumn, "event_type", "seq_id"] });
        table.Indexes.Add(new IndexDefinition("ix_audit_log_timestamp") { Columns = [TenantColumn, "timestamp"] });
        return table;
    }

    /// <summary>Every name a model has carried (lower-case), so an auditor can ask by a name that was renamed away.</summary>
    private static Table ModelNames()
    {
        var table = new Table(ModelNamesTable);
        table.AddColumn(TenantColumn, "text").AsPrimaryKey();
        table.AddColumn("name_key", "text").AsPrimaryKey();
        table.AddColumn("model_id", "uuid").AsPrimaryKey();
        table.AddColumn("seq_id", "bigint").NotNull();
        // A model's names, for a rebuild's digest of them (the key leads with the name).
        table.Indexes.Add(new IndexDefinition("ix_audit_model_names_model") { Columns = [TenantColumn, "model_id"] });
        return table;
    }

    /// <summary>
    /// One link per chained event of a workspace. <c>prev_seq</c> is the sequence of the link it extends (0 for the
    /// workspace's first); its uniqueness within the workspace makes a fork impossible: two links can never extend the
    /// same predecessor.
    /// </summary>
    private static Table Chain()
    {
        var table = new Table(ChainTable);
        table.AddColumn(TenantColumn, "text").AsPrimaryKey();
        table.AddColumn("seq_id", "bigint").AsPrimaryKey();
        table.AddColumn("prev_seq", "bigint").NotNull();
        table.AddColumn("hash", "bytea").NotNull();
        table.Indexes.Add(new IndexDefinition("ux_audit_chain_prev_seq") { Columns = [TenantColumn, "prev_seq"], IsUnique = true });
        return table;
    }

    /// <summary>
    /// The operator's chain: one link per signed workspace checkpoint, in the order they were signed, all in the
    /// platform tenant. <c>prev_position</c> is unique like the event chain's <c>prev_seq</c>, so it cannot fork, and a
    /// checkpoint is linked once.
    /// </summary>
    private static Table OperatorChainLinks()
    {
        var table = new Table(OperatorChainTable);
        table.AddColumn(TenantColumn, "text").AsPrimaryKey();
        table.AddColumn("position", "bigint").AsPrimaryKey();
        table.AddColumn("prev_position", "bigint").NotNull();
        table.AddColumn("workspace", "text").NotNull();
        table.AddColumn("sequence", "bigint").NotNull();
        table.AddColumn("head", "text").NotNull();
        table.AddColumn("signed_at", "timestamptz").NotNull();
        table.AddColumn("hash", "bytea").NotNull();
        table.Indexes.Add(new IndexDefinition("ux_audit_operator_chain_prev") { Columns = [TenantColumn, "prev_position"], IsUnique = true });
        table.Indexes.Add(new IndexDefinition("ux_audit_operator_chain_checkpoint") { Columns = [TenantColumn, "workspace", "sequence"], IsUnique = true });
        return table;
    }
}
