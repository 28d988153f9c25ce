using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using Npgsql;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// At start, creates the key table and, while no active admin key exists, stores a bootstrap admin key (hashed):
/// <c>Registry:BootstrapAdminKey</c> when set, else a generated one printed once on stdout. Nodes starting together
/// take turns on an advisory lock, so a cluster's first start makes one key.
/// </summary>
public sealed class BootstrapAdminKey(NpgsqlDataSource data, IConfiguration configuration, ILogger<BootstrapAdminKey> logger)
    : IHostedService
{
    public const string Setting = "Registry:BootstrapAdminKey";
    public const string Name = "bootstrap-admin";
    public const int MinimumLength = 32;

    public async Task StartAsync(CancellationToken ct)
    {
        var configured = configuration[Setting];
        if (configured is { Length: > 0 } && configured.Trim().Length < MinimumLength)
            throw new InvalidOperationException(
                $"{Setting} must be at least {MinimumLength} characters of random text (for example `openssl rand -hex 32`).");

        await using var connection = await data.OpenConnectionAsync(ct);
        await using (var create = new NpgsqlCommand(ApiKeys.CreateTableSql, connection)) await create.ExecuteNonQueryAsync(ct);

        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(7310486521)", connection, transaction))
            await lockCommand.ExecuteNonQueryAsync(ct);

        var adminGrant = JsonSerializer.Serialize(new[] { new { role = Roles.Admin } });
        await using (var exists = new NpgsqlCommand(
            $"select exists (select 1 from {ApiKeys.Table} where revoked_at is null and grants @> $1::jsonb)", connection, transaction))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = adminGrant });
            if ((bool)(await exists.ExecuteScalarAsync(ct))!)
            {
                await transaction.CommitAsync(ct);
                return;
            }
        }

        var (id, key) = configured is { Length: > 0 } ? (ApiKeys.Parse(configured.Trim()).Id, configured.Trim()) : ApiKeys.NewKey();
        await using (var store = new NpgsqlCommand($"""
            insert into {ApiKeys.Table} as k (id, name, secret_sha256, grants, created_by)
            values ($1, case when exists (select 1 from {ApiKeys.Table} where name = $2 and id <> $1) then $2 || '-' || $1 else $2 end,
                    $3, $4::jsonb, 'bootstrap')
            on conflict (id) do update set secret_sha256 = excluded.secret_sha256, grants = excluded.grants,
                revoked_at = null, revoked_by = null
            """, connection, transaction))
        {
            store.Parameters.Add(new NpgsqlParameter { Value = id });
            store.Parameters.Add(new NpgsqlParameter { Value = Name });
            store.Parameters.Add(new NpgsqlParameter { Value = ApiKeys.Hash(ApiKeys.Parse(key).Secret) });
            store.Parameters.Add(new NpgsqlParameter { Value = adminGrant });
            await store.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);

        if (configured is { Length: > 0 })
        {
            logger.LogInformation("No active admin key existed: stored the key from {Setting} as the bootstrap admin key", Setting);
            return;
        }
        logger.LogWarning("No active admin key existed: generated a bootstrap admin key, printed once on standard output");
        Console.Out.WriteLine($"""

            ================================================================================
            Bootstrap admin API key (shown this once; the registry keeps only its hash):

                {key}

            Send it as `Authorization: ApiKey <key>` (or `X-Api-Key: <key>`), or export
            ESR_API_KEY=<key> for esr. Create keys for people and pipelines with it
            (POST /api/v1/admin/keys or `esr keys create`), then revoke it.
            ================================================================================

            """);
        await Console.Out.FlushAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
