using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.History;

/// <summary>One row of the deployment-history view.</summary>
public sealed record Interval(
    long Id,
    Guid ModelId,
    string Kind,
    string Subject,
    string? Target,
    int? Version,
    long EnteredSeq,
    DateTimeOffset EnteredAt,
    string? EnteredBy,
    string? EnteredReason,
    long? LeftSeq,
    DateTimeOffset? LeftAt,
    string? LeftBy,
    string? LeftReason);

/// <summary>Reads of the deployment-history view; plain SQL over its indexes, always within one workspace.</summary>
public static class DeploymentHistoryQueries
{
    private const string Columns =
        "id, model_id, kind, subject, target, version, entered_seq, entered_at, entered_by, entered_reason, left_seq, left_at, left_by, left_reason";

    /// <summary>
    /// The workspace's rows matching <paramref name="where"/> (positional parameters <c>$1</c>… bound from
    /// <paramref name="args"/>); the workspace is bound after them, so no condition a caller writes can widen the read.
    /// </summary>
    public static async Task<IReadOnlyList<Interval>> Read(NpgsqlDataSource data, string schema, WorkspaceId workspace, string where,
        IReadOnlyList<object> args, string orderAndLimit, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            $"select {Columns} from {DeploymentHistory.QualifiedTable(schema)} where tenant_id = ${args.Count + 1} and ({where}) {orderAndLimit}");
        foreach (var arg in args) command.Parameters.Add(new NpgsqlParameter { Value = arg });
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<Interval>();
        while (await reader.ReadAsync(ct)) rows.Add(ReadRow(reader));
        return rows;
    }

    private static Interval ReadRow(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetGuid(1), r.GetString(2), r.GetString(3),
        r.IsDBNull(4) ? null : r.GetString(4),
        r.IsDBNull(5) ? null : r.GetInt32(5),
        r.GetInt64(6), r.GetFieldValue<DateTimeOffset>(7),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        r.IsDBNull(10) ? null : r.GetInt64(10),
        r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11),
        r.IsDBNull(12) ? null : r.GetString(12),
        r.IsDBNull(13) ? null : r.GetString(13));
}
