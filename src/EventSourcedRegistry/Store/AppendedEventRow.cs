using JasperFx.Events;
using Marten;

namespace EventSourcedRegistry.Store;

/// <summary>
/// Where an inline projection's statement takes an appended event's sequence, time, actor and reason from: a row source
/// named <c>ev</c> with the columns <c>tenant_id, seq_id, timestamp, user_name, reason</c>, for a <c>with ev as (…)</c>.
/// <para>
/// The store assigns sequence and time inside its append function, in the statement batch the projection's statement
/// rides in, so the projection cannot pass them as values. In general the statement reads them from the event's own row
/// (by id, in its workspace's partition of <c>mt_events</c>). When the event is the last one the session appends
/// (the session appends to one stream and this is that stream's last event), nothing needs reading: its sequence is the
/// workspace's event sequence's <c>currval</c> in this session (the append function draws one <c>nextval</c> per event,
/// in order, and nothing else in the batch draws from that sequence), its time is the append function's own expression,
/// <c>now() at time zone 'utc'</c>, which is the transaction's start in the same session, and actor and reason are the
/// values the session hands the append function. Issue 17: the read of the partitioned event table was the costliest
/// statement to plan in a promotion, and a statement that names no partitioned table can run on a generic plan
/// (<see cref="GenericPlans"/>).
/// </para>
/// </summary>
public static class AppendedEventRow
{
    /// <summary>
    /// Said in a command's write batch after the append, when every later statement names no partitioned table: they then
    /// run on the plans their connection keeps (generic) instead of being planned at every run. <c>SET LOCAL</c> ends with
    /// the transaction, so the pooled connection keeps its <c>force_custom_plan</c> (RegistryDatabase) for everything else.
    /// </summary>
    public const string GenericPlans = "set local plan_cache_mode = force_generic_plan";

    /// <summary>True when <paramref name="e"/> is the last event <paramref name="operations"/> appends, and to its only stream.</summary>
    public static bool IsLastAppended(IDocumentOperations operations, IEvent e)
    {
        if (operations is not IDocumentSession session) return false;
        StreamAction? only = null;
        foreach (var stream in session.PendingChanges.Streams())
        {
            if (only is not null) return false;
            only = stream;
        }
        return only is { Events.Count: > 0 } && only.Events[^1].Id == e.Id && only.Events[^1].TenantId == e.TenantId;
    }

    /// <summary>
    /// True when a session's statements after the append name no partitioned table: it appends one event, to one stream,
    /// so every projection row source is <see cref="Source"/>'s computed one. Then <see cref="GenericPlans"/> may be queued.
    /// </summary>
    public static bool AppendsOneEvent(IDocumentSession session)
    {
        var count = 0;
        foreach (var stream in session.PendingChanges.Streams())
            if (++count > 1 || stream.Events.Count != 1) return false;
        return count == 1;
    }

    /// <summary>
    /// The row source for <paramref name="e"/> and its parameters, in order. <paramref name="reason"/> is a reason given
    /// by the event itself; without it the row's reason is the event's <c>reason</c> header.
    /// </summary>
    public static (string Sql, object[] Parameters) Source(IDocumentOperations operations, IEvent e, string schema, string? reason = null)
    {
        var parameters = new List<object>();
        if (IsLastAppended(operations, e) && HeaderReason(e, out var header))
        {
            parameters.Add(e.TenantId);
            parameters.Add(e.TenantId);
            return (
                "select ?::varchar as tenant_id, " +
                $"currval((select format('%I.%I', '{schema}', '{EventGaps.SequencePrefix}' || p.partition_suffix) " +
                $"from {schema}.mt_tenant_partitions p where p.partition_value = ?)::regclass) as seq_id, " +
                $"(now() at time zone 'utc')::timestamptz as timestamp, {Bind(parameters, e.UserName, "varchar")} as user_name, " +
                $"{Bind(parameters, reason ?? header, "varchar")} as reason",
                [.. parameters]);
        }
        var given = reason is null ? "headers ->> 'reason'" : $"coalesce({Bind(parameters, reason, "varchar")}, headers ->> 'reason')";
        parameters.Add(e.Id);
        parameters.Add(e.TenantId);
        return ($"select tenant_id, seq_id, timestamp, user_name, {given} as reason from {schema}.mt_events where id = ? and tenant_id = ?",
            [.. parameters]);
    }

    /// <summary>
    /// A placeholder for <paramref name="value"/>, or a typed null spelled in the statement. Marten binds a null with no
    /// type and a value with its CLR type's, and Npgsql runs a statement it prepared with other parameter types unprepared
    /// (planned at every run) from then on, on that connection: a statement that takes a null on one run and a value on
    /// the next would lose its plan. So a null is never bound; the two cases are two statements.
    /// </summary>
    public static string Bind(List<object> parameters, object? value, string type)
    {
        if (value is null) return $"null::{type}";
        parameters.Add(value);
        return $"?::{type}";
    }

    /// <summary>The <c>reason</c> header as <c>headers ->> 'reason'</c> reads it back; false for a value that is not a string.</summary>
    private static bool HeaderReason(IEvent e, out string? reason)
    {
        reason = null;
        if (e.Headers is null || !e.Headers.TryGetValue("reason", out var value) || value is null) return true;
        reason = value as string;
        return reason is not null;
    }
}
