using System.Security.Cryptography;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// The server's record of console sessions. The session cookie carries everything it needs, so without this a copy of
/// it taken before sign-out would stay good until its idle expiry; with it, signing out ends the session for every copy,
/// on every node, at their next request. A row is written at sign-in and marked ended at sign-out; each request records
/// it as seen, and a session idle for the idle timeout is over on the server too; rows over for a day are swept at the
/// next sign-in. Kept beside the key ring, as the platform's rows (a session is a key's, whichever workspace it
/// visits).
/// </summary>
public sealed class ConsoleSessions(NpgsqlDataSource data, ConsoleTables tables, IConfiguration configuration)
{
    private readonly TimeSpan idle = ConsoleSession.IdleTimeoutOf(configuration);

    /// <summary>
    /// When a row's session ends or ended: at sign-out, else after the idle timeout (the statement's parameter
    /// <paramref name="idleParameter"/>) from its last request, or at its token's expiry, whichever comes first.
    /// </summary>
    private static string EndOf(int idleParameter) =>
        $"coalesce(ended_at, least(last_seen_at + ${idleParameter}::interval, coalesce(expires_at, 'infinity')))";

    public const string Table = RegistryStore.Schema + ".console_sessions";

    /// <summary>The cookie's claim naming its session row.</summary>
    public const string Claim = "esr:console-session";

    /// <summary>
    /// A new session of <paramref name="holder"/> (an API key's id, or for an OpenID Connect sign-in the token's actor,
    /// <c>jwt:&lt;subject&gt;</c>, which no key id can be: key ids have no colon), kept in the <c>key_id</c> column;
    /// for a token, its claims (what the API's principal is rebuilt from at each request) and its expiry. Its id (256
    /// random bits) goes into the cookie. Sweeps the sessions that ended, went idle or expired over a day ago.
    /// </summary>
    public async Task<string> StartAsync(string holder, CancellationToken ct, string? tokenClaims = null, DateTimeOffset? expiresAt = null)
    {
        tables.Ensure();
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var batch = data.CreateBatch();
        var sweep = Command($"delete from {Table} where tenant_id = $1 and {EndOf(2)} < now() - interval '1 day'");
        sweep.Parameters.Add(new NpgsqlParameter { Value = idle });
        batch.BatchCommands.Add(sweep);
        var insert = Command($"insert into {Table} (tenant_id, session_id, key_id, claims, expires_at) values ($1, $2, $3, $4::jsonb, $5)");
        insert.Parameters.Add(new NpgsqlParameter { Value = id });
        insert.Parameters.Add(new NpgsqlParameter { Value = holder });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)tokenClaims ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)expiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(insert);
        await batch.ExecuteNonQueryAsync(ct);
        return id;
    }

    /// <summary>
    /// A request of the session: whether it was started for this holder and is still open (not ended, not idle for the
    /// idle timeout, not past its token's expiry), and if so its token claims (null for a key's session). Records the
    /// request as the session's last sign of life, in the same statement.
    /// </summary>
    public async Task<OpenSession?> TouchAsync(string sessionId, string holder, CancellationToken ct)
    {
        tables.Ensure();
        await using var command = data.CreateCommand(
            $"update {Table} set last_seen_at = now() where tenant_id = $1 and session_id = $2 and key_id = $3 and {EndOf(4)} > now() returning claims::text");
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        command.Parameters.Add(new NpgsqlParameter { Value = holder });
        command.Parameters.Add(new NpgsqlParameter { Value = idle });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new OpenSession(reader.IsDBNull(0) ? null : reader.GetString(0)) : null;
    }

    /// <summary>The holder's open sessions, the most recently used first (never their ids' values beyond this process).</summary>
    public async Task<IReadOnlyList<SessionRow>> ListAsync(string holder, CancellationToken ct)
    {
        tables.Ensure();
        await using var command = data.CreateCommand(
            $"select session_id, started_at, last_seen_at, expires_at from {Table} where tenant_id = $1 and key_id = $2 and {EndOf(3)} > now() order by last_seen_at desc limit 100");
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = holder });
        command.Parameters.Add(new NpgsqlParameter { Value = idle });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<SessionRow>();
        while (await reader.ReadAsync(ct))
            rows.Add(new SessionRow(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        return rows;
    }

    /// <summary>Ends every open session of the holder ("sign out everywhere"); how many were open.</summary>
    public async Task<int> EndAllAsync(string holder, CancellationToken ct)
    {
        tables.Ensure();
        await using var command = data.CreateCommand($"update {Table} set ended_at = now() where tenant_id = $1 and key_id = $2 and ended_at is null");
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = holder });
        return await command.ExecuteNonQueryAsync(ct);
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

/// <summary>An open session: for an OpenID Connect sign-in, its token's claims (JSON), else null.</summary>
public sealed record OpenSession(string? TokenClaims);

/// <summary>A session as its list shows it (the id only tells the current one apart; never rendered).</summary>
public sealed record SessionRow(string Id, DateTimeOffset StartedAt, DateTimeOffset LastSeenAt, DateTimeOffset? ExpiresAt);
