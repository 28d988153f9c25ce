using EventSourcedRegistry.Store;
using JasperFx.Events.Projections;
using Npgsql;

namespace EventSourcedRegistry.Audit;

/// <summary>
/// How far a workspace's audit projections have got. The async daemon records, per workspace (tenant), each shard's
/// last processed sequence in <c>mt_event_progression</c>, next to the workspace's high-water mark (the highest of its
/// sequences below which no append is still in flight). An answer from the audit log is complete through
/// <see cref="AuditLogThrough"/>; every number is the workspace's own.
/// </summary>
/// <param name="LastEvent">The sequence of the workspace's last stored event. The lag is counted from it, not from the
/// high-water mark: the audit worker moves the mark as it reads, so a log catching up on a backlog would show no lag behind it.</param>
public sealed record AuditProgress(long AuditLogThrough, long ChainThrough, long HighWaterMark, long LastEvent)
{
    public const string HighWaterMarkShard = "HighWaterMark";

    /// <summary>Events stored beyond what the audit log holds (0 once it has every one).</summary>
    public long AuditLogLag => Math.Max(0, LastEvent - AuditLogThrough);

    /// <summary>The progression row of a projection for one workspace (<c>AuditLog:All:team-a</c>).</summary>
    public static string Shard(string projection, WorkspaceId workspace) =>
        new ShardName(projection, ShardName.All, 1, workspace.TenantId).Identity;

    /// <summary>The workspace's high-water mark row (<c>HighWaterMark:team-a</c>).</summary>
    public static string HighWaterMarkOf(WorkspaceId workspace) => new ShardName(HighWaterMarkShard, ShardName.All, 1, workspace.TenantId).Identity;

    public static async Task<AuditProgress> ReadAsync(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct)
    {
        var logShard = Shard(AuditTrail.AuditLogProjectionName, workspace);
        var chainShard = Shard(AuditTrail.HashChainProjectionName, workspace);
        var markShard = HighWaterMarkOf(workspace);
        await using var command = new NpgsqlCommand(
            $"select name, last_seq_id from {AuditTrail.ProgressionTable} where name = any($1) " +
            $"union all select null, ({History.StorePosition.LastEventSql(RegistryStore.Schema, "$2")})", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = new[] { logShard, chainShard, markShard } });
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        long log = 0, chain = 0, highWaterMark = 0, last = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var value = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
            if (reader.IsDBNull(0))
            {
                last = value;
                continue;
            }
            var name = reader.GetString(0);
            if (name == logShard) log = value;
            else if (name == chainShard) chain = value;
            else if (name == markShard) highWaterMark = value;
        }
        return new AuditProgress(log, chain, highWaterMark, last);
    }
}
