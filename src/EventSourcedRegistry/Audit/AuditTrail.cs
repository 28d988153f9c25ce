using EventSourcedRegistry.Store;
using JasperFx.Events.Projections;
using Marten;
using Weasel.Postgresql.Tables;

namespace EventSourcedRegistry.Audit;

/// <summary>
/// The audit trail's storage: the audit log and the hash chain are plain tables written by two async
/// projections (so auditors' queries never slow down commands), plus signed checkpoints as documents.
/// </summary>
public static class AuditTrail
{
    public const string AuditLogProjectionName = "AuditLog";
    public const string HashChainProjectionName = "AuditChain";

    public const string AuditLogTable = RegistryStore.Schema + ".audit_log";
    public const string ModelNamesTable = RegistryStore.Schema + ".audit_model_names";
    public const string ChainTable = RegistryStore.Schema + ".audit_chain";
    public const string EventsTable = RegistryStore.Schema + ".mt_events";
    public const string ProgressionTable = RegistryStore.Schema + ".mt_event_progression";

    /// <summary>Tables the projections own. A reset of the event store must empty them too.</summary>
    public static readonly string[] Tables = [AuditLogTable, ModelNamesTable, ChainTable];

    public static StoreOptions AddAuditTrail(this StoreOptions options)
    {
        options.Storage.ExtendedSchemaObjects.Add(AuditLog());
        options.Storage.ExtendedSchemaObjects.Add(ModelNames());
        options.Storage.ExtendedSchemaObjects.Add(Chain());

        options.Projections.Add(new AuditLogProjection(), ProjectionLifecycle.Async, AuditLogProjectionName, async =>
        {
            // A rebuild starts the log afresh; the rows are facts derived from the events, nothing else.
            async.DeleteDataInTableOnTeardown(AuditLogTable);
            async.DeleteDataInTableOnTeardown(ModelNamesTable);
        });
        // No teardown for the chain: a rebuild must never re-derive (and so launder) links that already exist.
        options.Projections.Add(new HashChainProjection(), ProjectionLifecycle.Async, HashChainProjectionName);

        options.Schema.For<AuditCheckpoint>();
        return options;
    }

    private static Table AuditLog()
    {
        var table = new Table(AuditLogTable);
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
        table.Indexes.Add(new IndexDefinition("ix_audit_log_model") { Columns = ["model_id", "seq_id"] });
        table.Indexes.Add(new IndexDefinition("ix_audit_log_actor") { Columns = ["actor", "seq_id"] });
        table.Indexes.Add(new IndexDefinition("ix_audit_log_type") { Columns = ["event_type", "seq_id"] });
        table.Indexes.Add(new IndexDefinition("ix_audit_log_timestamp") { Columns = ["timestamp"] });
        return table;
    }

    /// <summary>Every name a model has carried (lower-case), so an auditor can ask by a name that was renamed away.</summary>
    private static Table ModelNames()
    {
        var table = new Table(ModelNamesTable);
        table.AddColumn("name_key", "text").AsPrimaryKey();
        table.AddColumn("model_id", "uuid").AsPrimaryKey();
        table.AddColumn("seq_id", "bigint").NotNull();
        return table;
    }

    /// <summary>
    /// One link per chained event. <c>prev_seq</c> is the sequence of the link it extends (0 for the first);
    /// its uniqueness makes a fork impossible: two links can never extend the same predecessor.
    /// </summary>
    private static Table Chain()
    {
        var table = new Table(ChainTable);
        table.AddColumn("seq_id", "bigint").AsPrimaryKey();
        table.AddColumn("prev_seq", "bigint").NotNull();
        table.AddColumn("hash", "bytea").NotNull();
        table.Indexes.Add(new IndexDefinition("ux_audit_chain_prev_seq") { Columns = ["prev_seq"], IsUnique = true });
        return table;
    }
}
