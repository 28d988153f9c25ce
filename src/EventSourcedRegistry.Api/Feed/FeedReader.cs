using System.Collections.Concurrent;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Webhooks;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Feed;

/// <summary>What a feed request asks for: the delivered types it names (empty: all), and the models it may see (null: all).</summary>
public sealed record FeedFilter(IReadOnlyList<string> Types, IReadOnlyList<Guid>? Models);

/// <summary>
/// Reads a workspace's settled model events: the pull feed's, and (<see cref="ReadAsync"/>) the webhook dispatcher's too.
/// </summary>
public sealed class FeedReader(NpgsqlDataSource data, WebhookEventTypes types)
{
    private readonly ConcurrentDictionary<string, Horizon> _horizons = new(StringComparer.Ordinal);

    /// <summary>A workspace's last reading to settle by, and the highest sequence any request has been told is settled.</summary>
    private sealed record Horizon(SettlementProbe Anchor, long Settled);

    /// <summary>
    /// The highest sequence of the workspace known settled (nothing at or below it can still commit): the high-water mark,
    /// or what an earlier reading saw handed out once every transaction that could still hold one of those numbers has
    /// ended (<see cref="Settlement.SettledThrough"/>), never past what is handed out now. The earlier reading and what it
    /// settled are shared by every request of the workspace, so a steady stream of polls keeps settling without waiting for
    /// the daemon's mark, and what one request was told is settled no other is told is not (the mark may lag behind it).
    /// </summary>
    public async Task<long> SettledAsync(WorkspaceId workspace, CancellationToken ct)
    {
        var probe = await Settlement.ProbeAsync(data, RegistryStore.Schema, workspace, ct);
        long settled;
        if (_horizons.TryGetValue(workspace.TenantId, out var known) && probe.Allocated >= known.Anchor.Allocated && probe.Allocated >= known.Settled)
        {
            // A concurrent request may have stored a later anchor than this probe: SettledThrough then gives only the mark.
            settled = Math.Max(known.Settled, Settlement.SettledThrough(known.Anchor, probe));
            // A new anchor once the old one has done its part, so a steady stream of appends keeps settling.
            var anchor = settled >= known.Anchor.Allocated ? probe : known.Anchor;
            if (settled > known.Settled || !ReferenceEquals(anchor, known.Anchor))
                _horizons.AddOrUpdate(workspace.TenantId, _ => new Horizon(anchor, settled),
                    (_, current) => new Horizon(ReferenceEquals(anchor, probe) ? probe : current.Anchor, Math.Max(current.Settled, settled)));
        }
        else
        {
            // None yet, or the workspace's numbering restarted below it: only the mark counts until the next reading.
            settled = probe.HighWaterMark;
            _horizons[workspace.TenantId] = new Horizon(probe, Math.Min(settled, probe.Allocated));
        }
        return Math.Min(settled, probe.Allocated);
    }

    /// <summary>
    /// The events in (<paramref name="after"/>, <paramref name="upTo"/>] the filter lets through, in order, at most
    /// <paramref name="limit"/>: model events of the delivered types only, each with its model's name as of the event. The
    /// workspace is bound in every statement on mt_events (its partition only), and the model filter is applied there too.
    /// </summary>
    /// <remarks>
    /// The name as of an event is the deployment history's name interval entered last at or before it: one probe of that
    /// table's (workspace, model, kind, entered sequence) index, whatever the model's history (the same lookup on mt_events
    /// walked the model's earlier events, so a long-lived model slowed every page). The history is written in the
    /// transaction that appends the events, so a settled event has its row; a rebuild rewrites a model's rows in one
    /// transaction. Where no row is found (a model whose rows are missing until a rebuild repairs them, or a stream that
    /// never had a name) the events are asked, as before, and PostgreSQL evaluates that fallback only then.
    /// </remarks>
    public async Task<List<DeliveredEvent>> ReadAsync(WorkspaceId workspace, long after, long upTo, FeedFilter filter, int limit, CancellationToken ct)
    {
        var wanted = filter.Types.Count == 0 ? types.Names : filter.Types;
        await using var command = data.CreateCommand(
            $"""
             select e.seq_id, e.stream_id, e.type, e.data::text, e.timestamp, e.user_name, e.correlation_id, e.headers ->> '{CommandContextExtensions.ReasonHeader}',
                    coalesce(
                      (select h.subject from {DeploymentHistory.QualifiedTable(RegistryStore.Schema)} h
                       where h.tenant_id = $1 and h.model_id = e.stream_id and h.kind = '{DeploymentHistory.Kinds.Name}' and h.entered_seq <= e.seq_id
                       order by h.entered_seq desc limit 1),
                      (select coalesce(n.data ->> 'newName', n.data ->> 'name') from {RegistryStore.Schema}.mt_events n
                       where n.tenant_id = $1 and n.stream_id = e.stream_id and n.seq_id <= e.seq_id and n.type = any($6)
                       order by n.seq_id desc limit 1))
             from {RegistryStore.Schema}.mt_events e
             where e.tenant_id = $1 and e.seq_id > $2 and e.seq_id <= $3 and e.type = any($4) and ($5::uuid[] is null or e.stream_id = any($5))
               and e.stream_id <> all($7)
             order by e.seq_id limit $8
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = after });
        command.Parameters.Add(new NpgsqlParameter { Value = upTo });
        command.Parameters.Add(new NpgsqlParameter { Value = wanted.ToArray() });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = (object?)filter.Models?.ToArray() ?? DBNull.Value,
            NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid,
        });
        command.Parameters.Add(new NpgsqlParameter { Value = types.NamingTypes.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = RegistryStore.RegistryStreams.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var events = new List<DeliveredEvent>();
        while (await reader.ReadAsync(ct))
        {
            using var payload = JsonDocument.Parse(reader.GetString(3));
            var root = payload.RootElement.Clone();
            int? version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;
            var reason = root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String && r.GetString() is { Length: > 0 } said
                ? said
                : reader.IsDBNull(7) ? null : reader.GetString(7);
            events.Add(new DeliveredEvent(workspace.Slug, reader.GetInt64(0), reader.GetString(2), reader.GetGuid(1), reader.IsDBNull(8) ? null : reader.GetString(8),
                version, new DateTimeOffset(DateTime.SpecifyKind(reader.GetFieldValue<DateTime>(4), DateTimeKind.Utc)),
                reader.IsDBNull(5) ? null : reader.GetString(5), reason, reader.IsDBNull(6) ? null : reader.GetString(6), root));
        }
        return events;
    }
}
