using System.Text.Json;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// At start, creates the key table (and upgrades one from before owners, see <see cref="Upgrade"/>) and, while no
/// active platform admin key exists, stores a bootstrap admin key (hashed): <c>Registry:BootstrapAdminKey</c> when set,
/// else a generated one printed once on stdout. It is a key of the <c>default</c> workspace holding the platform-admin
/// role (workspaces) and, when <c>default</c> has no active admin key (a new store), admin of <c>default</c> too: on a
/// new store it does all it did before workspaces; on a store upgraded from before them it only adds the platform admin. Nodes starting together take turns on an advisory lock, so a cluster's first
/// start makes one key and upgrades the table once. The bootstrap key is its own owner (<c>key:bootstrap-admin</c>):
/// it stands for whoever holds it, and every key made with it lists that owner among its issuers.
/// </summary>
public sealed class BootstrapAdminKey(NpgsqlDataSource data, ApiKeys keys, IConfiguration configuration, ILogger<BootstrapAdminKey> logger)
    : IHostedService
{
    public const string Setting = "Registry:BootstrapAdminKey";
    public const string Name = "bootstrap-admin";
    public const int MinimumLength = 32;
    /// <summary>The actor of the bootstrap key's events (and its <c>created_by</c>): the registry itself, at startup.</summary>
    public const string Actor = "bootstrap";
    /// <summary>The actor of the events that record keys from before owners, at the upgrade.</summary>
    public const string UpgradeActor = "upgrade";

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

        await Upgrade(connection, transaction, ct);

        if (await AnyActive(connection, transaction, Roles.PlatformAdmin, null, ct))
        {
            await transaction.CommitAsync(ct);
            return;
        }
        var (id, key) = configured is { Length: > 0 } ? (ApiKeys.Parse(configured.Trim()).Id, configured.Trim()) : ApiKeys.NewKey();
        // A configured key that is active keeps what it holds and gains the platform role. Otherwise the key is admin
        // of default only when default has no active admin (a new store): no new power over an existing workspace.
        var existing = await Active(connection, transaction, id, ct);
        var grants = existing is not null
            ? existing.Grants.Where(g => g.Role != Roles.PlatformAdmin).Append(new Grant(Roles.PlatformAdmin)).ToList()
            : await AnyActive(connection, transaction, Roles.Admin, WorkspaceId.Default, ct)
                ? [new Grant(Roles.PlatformAdmin)]
                : [new Grant(Roles.Admin), new Grant(Roles.PlatformAdmin)];
        var grantJson = ApiKeys.SerializeGrants(grants);
        // Recorded where it changes something: default's stream when the key becomes an admin there (a new store, as
        // before workspaces), else the platform's, so a store upgraded from before workspaces keeps its events as they were.
        var newInDefault = grants.Any(g => g.Role == Roles.Admin) && existing?.Grants.Any(g => g.Role == Roles.Admin) != true;
        var recordedIn = newInDefault ? WorkspaceId.Default : WorkspaceId.Platform;
        ApiKeyRecord stored;
        // A configured key revoked earlier is stored again (same id, the configured secret): the recovery path when
        // every admin key was revoked. Its owner stays what it was.
        await using (var store = new NpgsqlCommand($"""
            with n as (select case when exists (select 1 from {ApiKeys.Table} where workspace = $5 and name = $2 and id <> $1) then $2 || '-' || $1 else $2 end as name)
            insert into {ApiKeys.Table} as k (id, name, owner, issuers, secret_sha256, grants, created_by, workspace)
            select $1, n.name, '{Principal.KeyActorPrefix}' || n.name, array[]::text[], $3, $4::jsonb, '{Actor}', $5 from n
            on conflict (id) do update set secret_sha256 = excluded.secret_sha256, grants = excluded.grants, workspace = excluded.workspace,
                revoked_at = null, revoked_by = null
            returning {ApiKeys.Columns}
            """, connection, transaction))
        {
            store.Parameters.Add(new NpgsqlParameter { Value = id });
            store.Parameters.Add(new NpgsqlParameter { Value = Name });
            store.Parameters.Add(new NpgsqlParameter { Value = ApiKeys.Hash(ApiKeys.Parse(key).Secret) });
            store.Parameters.Add(new NpgsqlParameter { Value = grantJson });
            store.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Default.Slug });
            await using var reader = await store.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            stored = ApiKeys.Read(reader);
        }
        await keys.AppendAsync(transaction, recordedIn, Startup(Actor), ct,
            new ApiKeyCreated(stored.Id, stored.Name, stored.Owner, stored.EventGrants, stored.Issuers));
        await transaction.CommitAsync(ct);

        if (configured is { Length: > 0 })
        {
            logger.LogInformation("No active platform admin key existed: stored the key from {Setting} as the bootstrap admin key", Setting);
            return;
        }
        logger.LogWarning("No active platform admin key existed: generated a bootstrap admin key, printed once on standard output");
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

    /// <summary>The active key with this id, if any.</summary>
    private static async Task<ApiKeyRecord?> Active(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select {ApiKeys.Columns} from {ApiKeys.Table} where id = $1 and revoked_at is null", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ApiKeys.Read(reader) : null;
    }

    /// <summary>Whether an active key holds <paramref name="role"/> (in <paramref name="workspace"/>, when given).</summary>
    private static async Task<bool> AnyActive(NpgsqlConnection connection, NpgsqlTransaction transaction, string role, WorkspaceId? workspace,
        CancellationToken ct)
    {
        // A workspace's own keys hold their grants there (grants without a workspace); a platform key's grant names it.
        await using var exists = new NpgsqlCommand(workspace is null
            ? $"select exists (select 1 from {ApiKeys.Table} where revoked_at is null and grants @> $1::jsonb)"
            : $"select exists (select 1 from {ApiKeys.Table} k where revoked_at is null and exists (select 1 from jsonb_array_elements(k.grants) g " +
              "where g->>'role' = $2 and coalesce(g->>'workspace', k.workspace) = $3) and grants @> $1::jsonb)", connection, transaction);
        exists.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(new[] { new { role } }) });
        if (workspace is not null)
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = role });
            exists.Parameters.Add(new NpgsqlParameter { Value = workspace.Slug });
        }
        return (bool)(await exists.ExecuteScalarAsync(ct))!;
    }

    private static CommandContext Startup(string actor) => new(actor, Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"), null);

    /// <summary>
    /// A key table from before owners: gives each key the owner <c>key:&lt;name&gt;</c> (its own actor, which no key
    /// made since can claim: so nobody is silently merged with anyone, and a key counts as one person exactly as
    /// before), derives its issuers from who made it (up the chain of keys that made keys), and records each key as an
    /// <see cref="ApiKeyRecorded"/> event, in one transaction with the table change.
    /// </summary>
    private async Task Upgrade(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using (var probe = new NpgsqlCommand(
                         "select exists (select 1 from information_schema.columns where table_schema = $1 and table_name = 'api_keys' and column_name = 'owner')",
                         connection, transaction))
        {
            probe.Parameters.Add(new NpgsqlParameter { Value = RegistryStore.Schema });
            if ((bool)(await probe.ExecuteScalarAsync(ct))!) return;
        }

        var legacy = new List<(string Id, string Name, string Grants, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? RevokedBy)>();
        await using (var read = new NpgsqlCommand(
                         $"select id, name, grants::text, created_by, created_at, revoked_at, revoked_by from {ApiKeys.Table} order by created_at, id",
                         connection, transaction))
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                legacy.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        var byActor = legacy.ToDictionary(k => Principal.KeyActorPrefix + k.Name, k => k.CreatedBy, StringComparer.Ordinal);
        var events = new List<object>();
        await using (var alter = new NpgsqlCommand(
                         $"alter table {ApiKeys.Table} add column owner text, add column issuers text[] not null default array[]::text[]", connection, transaction))
            await alter.ExecuteNonQueryAsync(ct);
        foreach (var key in legacy)
        {
            var owner = Principal.KeyActorPrefix + key.Name;
            var issuers = LegacyIssuers(key.CreatedBy, byActor);
            await using (var update = new NpgsqlCommand($"update {ApiKeys.Table} set owner = $2, issuers = $3 where id = $1", connection, transaction))
            {
                update.Parameters.Add(new NpgsqlParameter { Value = key.Id });
                update.Parameters.Add(new NpgsqlParameter { Value = owner });
                update.Parameters.Add(new NpgsqlParameter { Value = issuers.ToArray() });
                await update.ExecuteNonQueryAsync(ct);
            }
            var grants = ApiKeys.DeserializeGrants(key.Grants).Select(g => new KeyGrant(g.Role, g.ModelId, g.ModelName, g.Workspace)).ToList();
            events.Add(new ApiKeyRecorded(key.Id, key.Name, owner, grants, issuers, key.CreatedBy, key.CreatedAt, key.RevokedBy, key.RevokedAt));
        }
        await using (var notNull = new NpgsqlCommand($"alter table {ApiKeys.Table} alter column owner set not null", connection, transaction))
            await notNull.ExecuteNonQueryAsync(ct);
        if (events.Count > 0) await keys.AppendAsync(transaction, WorkspaceId.Default, Startup(UpgradeActor), ct, [.. events]);
        logger.LogWarning("Upgraded the API key table: {Count} key(s) from before owners are each their own owner (key:<name>); " +
                          "give people new keys with owners and revoke these", legacy.Count);
    }

    /// <summary>
    /// The issuers of a key from before owners, from who made it: nobody for the bootstrap key, a token's subject, or
    /// the making key's own owner (its actor) and that key's issuers in turn. A maker no longer in the table is named as it was.
    /// </summary>
    public static List<string> LegacyIssuers(string createdBy, IReadOnlyDictionary<string, string> makerOfKeyActor)
    {
        var issuers = new List<string>();
        var maker = createdBy;
        while (maker != Actor && !issuers.Contains(Principal.OwnerOfActor(maker), StringComparer.OrdinalIgnoreCase))
        {
            issuers.Add(Principal.OwnerOfActor(maker));
            if (!makerOfKeyActor.TryGetValue(maker, out var next)) break;
            maker = next;
        }
        return issuers;
    }
}

