using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.History;

/// <summary>
/// One reading of what the store can say about the past: PostgreSQL's clock, the async daemon's high-water mark (every
/// sequence at or below it is committed, or a gap no transaction can fill any more), the highest sequence handed out,
/// and the start of the oldest transaction still open in the database (null: none).
/// </summary>
public sealed record SettlementProbe(DateTimeOffset Clock, long HighWaterMark, long Allocated, DateTimeOffset? OldestOpenTransaction);

/// <summary>What a point in history is, given a <see cref="SettlementProbe"/>.</summary>
public enum Settled
{
    /// <summary>Final: the answer for it can never change.</summary>
    Yes,
    /// <summary>Not yet, but soon: a transaction may still add to it, or the high-water mark has not passed it.</summary>
    NotYet,
    /// <summary>Beyond the present: no event has that sequence yet, or the instant is ahead of the store's clock.</summary>
    Future,
}

/// <summary>
/// When a point in history is settled, so that an answer about it is final. Events are stamped with their transaction's
/// start (<c>now()</c> in Marten's quick append) and numbered when they are inserted, later in that transaction, so an
/// event stamped at or before an instant can still commit, with a sequence above anything read so far, for as long as a
/// transaction that began at or before the instant is open. An instant T is therefore settled when
/// <list type="number">
/// <item>the store's clock has passed T by <see cref="ClockMargin"/> (every transaction starting from then on is stamped
/// after T; the margin covers the moment between a transaction taking its start time and showing it in
/// <c>pg_stat_activity</c>),</item>
/// <item>no transaction that began at or before T is still open (then no event stamped at or before T can still appear),</item>
/// <item>and the high-water mark has reached N, the highest sequence stamped at or before T (then nothing can still
/// commit at or below N: a transaction that began after T may have drawn a lower sequence than N).</item>
/// </list>
/// The state at T is then the state after sequence N, for good. A sequence S is settled once the high-water mark has
/// reached it. The open-transaction check sees the transactions of the registry's own database role (PostgreSQL shows
/// other roles' transaction starts only to members of <c>pg_read_all_stats</c>); the registry appends only through it.
/// </summary>
public static class Settlement
{
    /// <summary>How far the store's clock must be past an instant before it can count as settled.</summary>
    public static readonly TimeSpan ClockMargin = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Reads the workspace's high-water mark and the last value of its event sequence, then the clock and the oldest open
    /// transaction, in one round trip. Sequences and marks are the workspace's own (docs/design/workspaces.md §3.4): each
    /// workspace numbers its events from 1 in its own sequence, <c>mt_events_sequence_&lt;suffix&gt;</c>, and the daemon keeps
    /// a mark per workspace (<c>HighWaterMark:&lt;workspace&gt;</c>). The open-transaction check stays database-wide: another
    /// workspace's open transaction can delay settling an instant by as long as it is open, which tells a timing, not a count.
    /// The sequence is read by a statement before the clock's, so every number it counts was drawn by a transaction that
    /// began before <see cref="SettlementProbe.Clock"/> (<see cref="SettledThrough"/> rests on it); in one statement with the
    /// clock first, a transaction beginning between the two, on a loaded machine later than the clock margin, was taken for
    /// one begun after the reading.
    /// </summary>
    public static async Task<SettlementProbe> ProbeAsync(NpgsqlDataSource data, string schema, WorkspaceId workspace, CancellationToken ct)
    {
        // pg_sequence_last_value is null before the sequence's first nextval: nothing allocated yet.
        await using var batch = data.CreateBatch();
        var sequence = new NpgsqlBatchCommand(
            $"select coalesce((select last_seq_id from {schema}.mt_event_progression where name = $2), 0), " +
            $"coalesce(pg_sequence_last_value(to_regclass(format('%I.%I', $3::text, '{EventGaps.SequencePrefix}' || " +
            $"(select partition_suffix from {schema}.mt_tenant_partitions where partition_value = $1)))), 0)");
        sequence.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        sequence.Parameters.Add(new NpgsqlParameter { Value = HighWaterMarkName(workspace) });
        sequence.Parameters.Add(new NpgsqlParameter { Value = schema });
        batch.BatchCommands.Add(sequence);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "select clock_timestamp(), (select min(xact_start) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() " +
            "and backend_type = 'client backend' and xact_start is not null)"));
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var highWaterMark = reader.GetInt64(0);
        // The mark never passes what was allocated; a sequence reset by setval(…, false) would read lower.
        var allocated = Math.Max(highWaterMark, reader.GetInt64(1));
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        return new SettlementProbe(reader.GetFieldValue<DateTimeOffset>(0), highWaterMark, allocated,
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>The daemon's row in <c>mt_event_progression</c> for a workspace's high-water mark.</summary>
    public static string HighWaterMarkName(WorkspaceId workspace) => $"HighWaterMark:{workspace.TenantId}";

    /// <summary>Whether the answer at a sequence is final (at or below the high-water mark), or not yet, or not reached at all.</summary>
    public static Settled OfSequence(long sequence, SettlementProbe probe) => OfSequence(sequence, probe, probe.HighWaterMark);

    /// <summary>The same, given what is known settled (<see cref="SettledThrough"/>).</summary>
    public static Settled OfSequence(long sequence, SettlementProbe probe, long settledThrough) =>
        sequence <= Math.Max(settledThrough, probe.HighWaterMark) ? Settled.Yes
        : sequence > probe.Allocated ? Settled.Future
        : Settled.NotYet;

    /// <summary>
    /// The highest sequence known to be settled from two readings, <paramref name="earlier"/> then <paramref name="later"/>:
    /// the later high-water mark, or everything the earlier reading saw handed out once every transaction that could hold one
    /// of those numbers has ended. A number at or below <c>earlier.Allocated</c> was drawn by a transaction that began before
    /// that reading's clock (a reading reads the sequence first, the clock after it); when the later reading, at least
    /// <see cref="ClockMargin"/> on, shows no open transaction that began before it, each such number is committed or can
    /// never be.
    /// Why not only the daemon's mark: it moves at the daemon's per-workspace poll, which falls behind under load and with
    /// many workspaces (docs/design/workspaces.md §5 #8), and a read of one's own write must not wait for it.
    /// </summary>
    public static long SettledThrough(SettlementProbe earlier, SettlementProbe later)
    {
        var since = earlier.Clock + ClockMargin;
        var ended = later.Clock >= since && (later.OldestOpenTransaction is not { } oldest || oldest > since);
        return Math.Max(later.HighWaterMark, ended ? earlier.Allocated : 0);
    }

    /// <summary>
    /// Whether no event stamped at or before the instant can still appear (conditions 1 and 2 above); condition 3 is
    /// <see cref="OfSequence"/> of the instant's sequence, read once this holds. Future when the instant is more than
    /// <paramref name="clockSkew"/> ahead of the store's clock.
    /// </summary>
    public static Settled OfInstant(DateTimeOffset instant, SettlementProbe probe, TimeSpan clockSkew)
    {
        if (instant > probe.Clock + clockSkew) return Settled.Future;
        if (probe.Clock < instant + ClockMargin) return Settled.NotYet;
        return probe.OldestOpenTransaction is { } oldest && oldest <= instant ? Settled.NotYet : Settled.Yes;
    }

    /// <summary>
    /// The highest sequence stamped at or before the instant (0: none); the state at the instant is the state after it.
    /// Final only once <see cref="OfInstant"/> said so before this was read. Reads every event before the instant or every
    /// event after it: resolutions go through <see cref="SettledInstants"/>, which reads only the events since a mark.
    /// </summary>
    public static async Task<long> SequenceAt(NpgsqlDataSource data, string schema, WorkspaceId workspace, DateTimeOffset instant, CancellationToken ct)
    {
        // -infinity: a gap-filling event written before EventGaps stamped them; it changed nothing and has no instant.
        await using var command = data.CreateCommand(
            $"select coalesce(max(seq_id), 0) from {schema}.mt_events where tenant_id = $2 and timestamp <= $1 and timestamp > '-infinity'::timestamptz");
        command.Parameters.Add(new NpgsqlParameter { Value = instant.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}
