using Npgsql;

namespace EventSourcedRegistry.Store;

/// <summary>
/// Keeps Marten's gap-filling ("tombstone") events from hurting the record.
/// <para>
/// When a commit fails after PostgreSQL handed out the sequences of its events (a later statement of the batch failed,
/// or the connection dropped during the commit), Marten writes placeholder events at those sequences from a background
/// retry loop, so the async daemon's high-water mark need not wait for the gap. Two of their properties are wrong for
/// a registry, and Marten has no setting for either, hence this guard of our own:
/// </para>
/// <list type="bullet">
/// <item>They carry no time: the placeholder is stamped <c>-infinity</c>, which breaks every reading of the event table
/// by instant (an as-of instant resolved to the placeholder's sequence would include events that came after it; an age
/// computed from it fails with <c>22008</c>). The guard stamps them with the time they are written.</item>
/// <item>After a crash of PostgreSQL, the event sequence restarts from its last value in the write-ahead log, which can
/// be below sequences handed out to a transaction that never committed. When Marten then writes placeholders at those
/// sequences, the next appends draw them again and fail with a duplicate key (<c>23505</c> on the event table's primary
/// key). The guard moves the sequence past a placeholder's, and <see cref="RepairSequenceAsync"/> past the stored events
/// when a collision happened anyway: the server refused that transaction, so nothing of it was kept and it can be retried.</item>
/// </list>
/// </summary>
public static partial class EventGaps
{
    public const string PlaceholderType = "tombstone";
    /// <summary>The event table's primary key; PostgreSQL names a workspace partition's copy <c>mt_events_&lt;suffix&gt;_pkey</c>.</summary>
    public const string SequencePrimaryKey = "pkey_mt_events_seq_id_tenant_id";

    /// <summary>
    /// Idempotent: installs the trigger on the event table. Run after Marten's own migration. Created on the partitioned
    /// parent, PostgreSQL clones it to every workspace's partition, also those registered later; each copy runs on its
    /// partition (<c>mt_events_&lt;suffix&gt;</c>), which names the workspace's own sequence (docs/design/workspaces.md §8.2):
    /// Marten writes a workspace's placeholders at that workspace's sequence numbers.
    /// </summary>
    public static string EnsureSql(string schema) => $"""
        select pg_advisory_xact_lock(hashtext('{schema}.esr_event_gaps'));
        create or replace function {schema}.esr_event_gaps() returns trigger language plpgsql as $guard$
        declare
          sequence_name regclass;
          sequence_state record;
        begin
          if not isfinite(new.timestamp) then
            new.timestamp := now();
          end if;
          if new.type = '{PlaceholderType}' then
            sequence_name := to_regclass(format('%I.%I', TG_TABLE_SCHEMA,
              '{SequencePrefix}' || substr(TG_TABLE_NAME, length('{PartitionPrefix}') + 1)));
            if sequence_name is null then
              raise exception 'esr_event_gaps: no event sequence for partition %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME;
            end if;
            execute format('select last_value, is_called from %s', sequence_name) into sequence_state;
            -- Racy against a concurrent nextval only in the window after a crash, and a collision it lets through is
            -- refused by the primary key and repaired (RepairSequenceAsync), never kept.
            if sequence_state.last_value < new.seq_id or (sequence_state.last_value = new.seq_id and not sequence_state.is_called) then
              perform setval(sequence_name, new.seq_id);
            end if;
          end if;
          return new;
        end
        $guard$;
        create or replace trigger esr_event_gaps before insert on {schema}.mt_events for each row
          when (new.type = '{PlaceholderType}' or not isfinite(new.timestamp))
          execute function {schema}.esr_event_gaps();
        """;

    /// <summary>A workspace's events partition is this and its suffix; its sequence is <see cref="SequencePrefix"/> and the same suffix.</summary>
    public const string PartitionPrefix = "mt_events_";
    public const string SequencePrefix = "mt_events_sequence_";

    /// <summary>
    /// An append refused because its sequence was already used: PostgreSQL rolled the transaction back, so it appended
    /// nothing and can be decided and sent again once <see cref="RepairSequenceAsync"/> ran.
    /// </summary>
    public static bool IsSequenceCollision(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: { } constraint }
                && (constraint == SequencePrimaryKey || PartitionPrimaryKey().IsMatch(constraint)))
                return true;
        return false;
    }

    /// <summary>
    /// Moves the workspace's event sequence past its highest stored event when it is behind it; true when it moved.
    /// Every workspace draws from a sequence of its own (<c>mt_events_sequence_&lt;suffix&gt;</c>), so only its own events count.
    /// </summary>
    public static async Task<bool> RepairSequenceAsync(NpgsqlDataSource data, string schema, WorkspaceId workspace, CancellationToken ct)
    {
        var suffix = await WorkspacePartitions.SuffixAsync(data, workspace, ct)
                     ?? throw new InvalidOperationException($"Workspace '{workspace}' has no partition in the store.");
        var sequence = WorkspacePartitions.EventSequence(schema, suffix);
        await using var command = data.CreateCommand(
            $"select setval('{sequence}', x.top) from " +
            $"(select max(seq_id) as top from {schema}.mt_events where tenant_id = $1) x, {sequence} s " +
            "where s.last_value < x.top or (s.last_value = x.top and not s.is_called)");
        command.Parameters.AddWithValue(workspace.TenantId);
        return await command.ExecuteScalarAsync(ct) is long;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^mt_events_[A-Za-z0-9_]+_pkey$")]
    private static partial System.Text.RegularExpressions.Regex PartitionPrimaryKey();
}
