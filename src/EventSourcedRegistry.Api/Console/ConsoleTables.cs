using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// The console's two plain tables, the Data Protection key ring (<see cref="DataProtectionKeys"/>) and the session rows
/// (<see cref="ConsoleSessions"/>), created together on first use. Not at start-up like the registry's other tables:
/// ASP.NET Core's Data Protection reads its key ring from its own hosted service, whose turn among the hosted services
/// the registry does not control, and its repository interface is synchronous.
/// </summary>
public sealed class ConsoleTables(NpgsqlDataSource data)
{
    private static readonly string CreateSql = $"""
        create schema if not exists {RegistryStore.Schema};
        create table if not exists {DataProtectionKeys.Table} (
            tenant_id     text not null,
            friendly_name text not null,
            xml           text not null,
            created_at    timestamptz not null default now(),
            primary key (tenant_id, friendly_name)
        );
        create table if not exists {ConsoleSessions.Table} (
            tenant_id  text not null,
            session_id text not null,
            key_id     text not null,
            started_at timestamptz not null default now(),
            ended_at   timestamptz,
            primary key (tenant_id, session_id)
        );
        -- Idle sessions end on the server too (and are swept), OpenID Connect sessions keep their token's claims and
        -- expiry; added in place, since a store made by an earlier build already holds the table.
        alter table {ConsoleSessions.Table} add column if not exists last_seen_at timestamptz not null default now();
        alter table {ConsoleSessions.Table} add column if not exists expires_at timestamptz;
        alter table {ConsoleSessions.Table} add column if not exists claims jsonb;
        create index if not exists console_sessions_holder on {ConsoleSessions.Table} (tenant_id, key_id);
        """;

    private volatile bool _created;

    /// <summary>Creates the tables once per process (a cheap flag check after that).</summary>
    public void Ensure()
    {
        if (_created) return;
        using var command = data.CreateCommand(CreateSql);
        try { command.ExecuteNonQuery(); }
        // Two nodes starting together both create them: the loser's duplicate is the winner's table.
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable) { }
        _created = true;
    }
}
