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
public static class EventGaps
{
    public const string PlaceholderType = "tombstone";
    public const string SequencePrimaryKey = "pkey_mt_events_seq_id";

    /// <summary>Idempotent: installs the trigger on the event table. Run after Marten's own migration.</summary>
    public static string EnsureSql(string schema) => $"""
        select pg_advisory_xact_lock(hashtext('{schema}.esr_event_gaps'));
        create or replace function {schema}.esr_event_gaps() returns trigger language plpgsql as $guard$
        declare
          sequence_state record;
        begin
          if not isfinite(new.timestamp) then
            new.timestamp := now();
          end if;
          if new.type = '{PlaceholderType}' then
            select last_value, is_called into sequence_state from {schema}.mt_events_sequence;
            -- Racy against a concurrent nextval only in the window after a crash, and a collision it lets through is
            -- refused by the primary key and repaired (RepairSequenceAsync), never kept.
            if sequence_state.last_value < new.seq_id or (sequence_state.last_value = new.seq_id and not sequence_state.is_called) then
              perform setval('{schema}.mt_events_sequence', new.seq_id);
            end if;
          end if;
          return new;
        end
        $guard$;
        create or replace trigger esr_event_gaps before insert on {schema}.mt_events for each row
          when (new.type = '{PlaceholderType}' or not isfinite(new.timestamp))
          execute function {schema}.esr_event_gaps();
        """;

    /// <summary>
    /// An append refused because its sequence was already used: PostgreSQL rolled the transaction back, so it appended
    /// nothing and can be decided and sent again once <see cref="RepairSequenceAsync"/> ran.
    /// </summary>
    public static bool IsSequenceCollision(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: SequencePrimaryKey })
                return true;
        return false;
    }

    /// <summary>Moves the event sequence past the highest stored event when it is behind it; true when it moved.</summary>
    public static async Task<bool> RepairSequenceAsync(NpgsqlDataSource data, string schema, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            $"select setval('{schema}.mt_events_sequence', x.top) from " +
            $"(select max(seq_id) as top from {schema}.mt_events) x, {schema}.mt_events_sequence s " +
            "where s.last_value < x.top or (s.last_value = x.top and not s.is_called)");
        return await command.ExecuteScalarAsync(ct) is long;
    }
}
