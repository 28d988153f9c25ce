using System.Security.Cryptography;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// The server's record of console sessions. The session cookie carries everything it needs, so without this a copy of
/// it taken before sign-out would stay good until its idle expiry; with it, signing out ends the session for every copy,
/// on every node, at their next request. A row is written at sign-in and marked ended at sign-out; ended rows are swept
/// at the next sign-in. Kept beside the key ring, as the platform's rows (a session is a key's, whichever workspace it
/// visits).
/// </summary>
public sealed class ConsoleSessions(NpgsqlDataSource data, ConsoleTables tables)
{
    public const string Table = RegistryStore.Schema + ".console_sessions";

    /// <summary>The cookie's claim naming its session row.</summary>
    public const string Claim = "esr:console-session";

    /// <summary>A new session of the key: its id (256 random bits) goes into the cookie.</summary>
    public async Task<string> StartAsync(string keyId, CancellationToken ct)
    {
        tables.Ensure();
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var batch = data.CreateBatch();
        batch.BatchCommands.Add(Command($"delete from {Table} where tenant_id = $1 and ended_at < now() - interval '1 day'"));
        var insert = Command($"insert into {Table} (tenant_id, session_id, key_id) values ($1, $2, $3)");
        insert.Parameters.Add(new NpgsqlParameter { Value = id });
        insert.Parameters.Add(new NpgsqlParameter { Value = keyId });
        batch.BatchCommands.Add(insert);
        await batch.ExecuteNonQueryAsync(ct);
        return id;
    }

    /// <summary>Whether the session was started for this key and has not been ended.</summary>
    public async Task<bool> IsOpenAsync(string sessionId, string keyId, CancellationToken ct)
    {
        tables.Ensure();
        await using var command = data.CreateCommand(
            $"select exists (select 1 from {Table} where tenant_id = $1 and session_id = $2 and key_id = $3 and ended_at is null)");
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        command.Parameters.Add(new NpgsqlParameter { Value = keyId });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task EndAsync(string sessionId, CancellationToken ct)
    {
        tables.Ensure();
        await using var command = data.CreateCommand($"update {Table} set ended_at = now() where tenant_id = $1 and session_id = $2 and ended_at is null");
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        await command.ExecuteNonQueryAsync(ct);
    }

    private static NpgsqlBatchCommand Command(string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        return command;
    }
}
