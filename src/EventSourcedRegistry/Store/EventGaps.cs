using Npgsql;

namespace EventSourcedRegistry.Store;

/// <summary>
/// Keeps Marten's gap-filling ("tombstone") events out of the record.
/// <para>
/// When a commit fails after PostgreSQL handed out the sequences of its events (a later statement of the batch failed,
/// or the connection dropped during the commit), Marten writes placeholder events at those sequences from a background
/// retry loop, in a transaction of their own, so that its async daemon's high-water mark need not wait for the gap.
/// A registry cannot keep them, and Marten has no setting to turn them off, hence this guard of our own (a trigger that
/// drops the row):
/// </para>
/// <list type="bullet">
/// <item>They commit late, and below sequences already committed. The record treats a number drawn by a transaction that
/// has ended without committing as never to be filled (<see cref="History.Settlement.SettledThrough"/>): the audit chain,
/// the webhook feed and as-of reads pass over it once every transaction that could hold it has ended. A placeholder
/// written after that is an event the hash chain has passed: <c>GET /api/v1/audit/verify</c> then rightly reports the chain
/// broken (two-node crash suite). Dropped, the failed append's numbers stay what they are, a gap that no commit fills.</item>
/// <item>They carried no time (<c>-infinity</c>), which broke every reading of the event table by instant; and after a
/// crash of PostgreSQL, whose event sequence restarts from its last value in the write-ahead log (which can be below
/// numbers handed out to a transaction that never committed), the next appends drew a placeholder's number again and
/// failed with a duplicate key (<c>23505</c>). Neither can happen to a row that is never stored. Any other event without
/// a finite stamp still gets the time it is written, and <see cref="RepairSequenceAsync"/> still moves a sequence that is
/// behind its stored events (a store written before this guard keeps its placeholders).</item>
/// </list>
/// Marten's daemon, where it runs, waits for a gap's staleness threshold instead of a placeholder; Marten 9 proves a
/// stale gap dead by the same open-transaction reasoning as <see cref="History.Settlement"/>.
/// </summary>
public static partial class EventGaps
{
    public const string PlaceholderType = "tombstone";
    /// <summary>The event table's primary key; PostgreSQL names a workspace partition's copy <c>mt_events_&lt;suffix&gt;_pkey</c>.</summary>
    public const string SequencePrimaryKey = "pkey_mt_events_seq_id_tenant_id";

    /// <summary>
    /// Idempotent: installs the trigger on the event table. Run after Marten's own migration. Created on the partitioned
    /// parent, PostgreSQL clones it to every workspace's partition, also those registered later.
    /// </summary>
    public static string EnsureSql(string schema) => $"""
        select pg_advisory_xact_lock(hashtext('{schema}.esr_event_gaps'));
        create or replace function {schema}.esr_event_gaps() returns trigger language plpgsql as $guard$
        begin
          if new.type = '{PlaceholderType}' then
            -- Marten's placeholder for a failed append: not stored (see EventGaps); its sequence stays a gap.
            return null;
          end if;
          if not isfinite(new.timestamp) then
            new.timestamp := now();
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
