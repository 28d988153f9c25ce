using JasperFx.Events.Projections;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Audit;

/// <summary>
/// How far the audit projections have got. The async daemon records each shard's last processed sequence in
/// <c>mt_event_progression</c>, next to the store's high-water mark (the highest sequence below which no
/// append is still in flight). An answer from the audit log is complete through <see cref="AuditLogThrough"/>.
/// </summary>
public sealed record AuditProgress(long AuditLogThrough, long ChainThrough, long HighWaterMark)
{
    public static readonly string AuditLogShard = new ShardName(AuditTrail.AuditLogProjectionName).Identity;
    public static readonly string ChainShard = new ShardName(AuditTrail.HashChainProjectionName).Identity;

    public long AuditLogLag => Math.Max(0, HighWaterMark - AuditLogThrough);

    /// <summary>The workspace's progress: the daemon keeps a row per projection shard and workspace (<c>AuditLog:All:&lt;workspace&gt;</c>).</summary>
    public static async Task<AuditProgress> ReadAsync(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"select name, last_seq_id from {AuditTrail.ProgressionTable} where name = any($1)", connection);
        var (logShard, chainShard) = (Of(AuditLogShard, workspace), Of(ChainShard, workspace));
        command.Parameters.Add(new NpgsqlParameter { Value = new[] { logShard, chainShard, Settlement.HighWaterMarkName(workspace) } });
        long log = 0, chain = 0, highWaterMark = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var value = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
            var name = reader.GetString(0);
            if (name == logShard) log = value;
            else if (name == chainShard) chain = value;
            else highWaterMark = value;
        }
        return new AuditProgress(log, chain, highWaterMark);
    }

    /// <summary>A shard's progression row for one workspace.</summary>
    public static string Of(string shard, WorkspaceId workspace) => $"{shard}:{workspace.TenantId}";
}
