using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using Marten;
using Npgsql;
using NpgsqlTypes;
using SessionOptions = Marten.Services.SessionOptions;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// A key as stored: never its secret, only the secret's SHA-256. <see cref="Owner"/> is the person or service it
/// belongs to; <see cref="Issuers"/> the owners who could have seen its secret when it was made (see <see cref="Principal"/>).
/// </summary>
public sealed record ApiKeyRecord(string Id, string Name, string Owner, IReadOnlyList<string> Issuers, byte[] SecretSha256,
    IReadOnlyList<Grant> Grants, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? RevokedBy,
    string Workspace)
{
    /// <summary>
    /// <c>key:&lt;name&gt;</c>; a platform key's is <c>key:platform/&lt;name&gt;</c>: names are unique per workspace, and
    /// a platform key acting in a workspace must not be mistaken for that workspace's key of the same name ('/' is never
    /// in a key's name).
    /// </summary>
    public string Actor => ApiKeys.ActorPrefix + (IsPlatformKey ? ApiKeys.PlatformActorInfix + Name : Name);
    public bool Active => RevokedAt is null;

    /// <summary>A key of the platform (made by a platform admin), rather than of one workspace.</summary>
    public bool IsPlatformKey => Workspace == WorkspaceId.Platform.Slug;

    /// <summary>The key as four eyes judges whoever uses it.</summary>
    public Principal Principal => new(Actor, Owner, Id, Issuers);

    public IReadOnlyList<KeyGrant> EventGrants => Grants.Select(g => new KeyGrant(g.Role, g.ModelId, g.ModelName, g.Workspace)).ToList();

    /// <summary>Where a grant holds: the workspace it names, else the key's own.</summary>
    public string WorkspaceOf(Grant grant) => grant.Workspace ?? Workspace;

    /// <summary>The key's grants in <paramref name="workspace"/>, the platform-admin role excluded (it holds in no workspace).</summary>
    public IReadOnlyList<Grant> GrantsIn(WorkspaceId workspace) =>
        Grants.Where(g => g.Role != Roles.PlatformAdmin && WorkspaceOf(g) == workspace.Slug).ToList();

    /// <summary>The workspaces the key may address: those it holds a grant in, and its own (never the platform).</summary>
    public IReadOnlyList<string> Workspaces =>
        Grants.Where(g => g.Role != Roles.PlatformAdmin).Select(WorkspaceOf).Append(Workspace)
            .Where(w => w != WorkspaceId.Platform.Slug).Distinct(StringComparer.Ordinal).ToList();

    public bool IsPlatformAdmin => Grants.Any(g => g.Role == Roles.PlatformAdmin);
}

/// <summary>
/// API keys: <c>esr_&lt;keyId&gt;_&lt;secret&gt;</c>, the secret 256 random bits. The table <c>registry.api_keys</c>
/// keeps the SHA-256 of the secret, never the secret; a presented key is found by its id and its secret's hash
/// compared in constant time. Making and revoking a key appends its event (<see cref="ApiKeyCreated"/>,
/// <see cref="ApiKeyRevoked"/>) to the access stream in the same transaction as the row, so neither exists without
/// the other.
/// </summary>
/// <remarks>
/// Two caches keep requests off the database. A validated key is kept by id for <see cref="CacheTtl"/>; revoking
/// evicts it on this node at once, other nodes stop accepting it within the TTL. And the ids of the active keys are
/// kept as one set for <see cref="UnknownKeyTtl"/>: a presented id outside it is refused from memory, so a flood of
/// random keys costs one read of the ids per TTL, not one read per key. A key made on another node is therefore
/// unknown here for at most that short TTL (one made on this node is known at once). The set is bounded: past
/// <see cref="MaxKnownIds"/> active keys it is not kept and every unknown id is read. (ASP.NET Core has no cache
/// that answers "not in the table" for an id never seen before; hence this one.)
/// </remarks>
public sealed class ApiKeys(NpgsqlDataSource data, IDocumentStore store, IConfiguration configuration, TimeProvider time, ILogger<ApiKeys> logger)
{
    public const string Prefix = "esr_";
    public const string ActorPrefix = Principal.KeyActorPrefix;
    /// <summary>Between <see cref="ActorPrefix"/> and a platform key's name in its actor.</summary>
    public const string PlatformActorInfix = "platform/";
    /// <summary>The id of a configured bootstrap key that is not in the <c>esr_</c> format.</summary>
    public const string BootstrapId = "bootstrap-admin";
    public const string Table = RegistryStore.Schema + ".api_keys";
    public const string CacheSetting = "Registry:Auth:ApiKeyCacheSeconds";
    public const string UnknownKeySetting = "Registry:Auth:UnknownKeyCacheSeconds";

    private readonly ConcurrentDictionary<string, (ApiKeyRecord Key, DateTimeOffset ExpiresAt)> _cache = new(StringComparer.Ordinal);
    private const int MaxCachedKeys = 10_000;

    private sealed record KnownIds(IReadOnlySet<string>? Ids, DateTimeOffset LoadedAt);
    private volatile KnownIds? _known;
    private Task<KnownIds>? _loading;
    private long _generation;
    private readonly Lock _loadingLock = new();
    private long _reads;

    public TimeSpan CacheTtl { get; } = TimeSpan.FromSeconds(configuration.GetValue(CacheSetting, 30));

    public TimeSpan UnknownKeyTtl { get; } = TimeSpan.FromSeconds(configuration.GetValue(UnknownKeySetting, 2.0));

    /// <summary>The most active key ids held in memory to refuse unknown ones (a few MB at most).</summary>
    public int MaxKnownIds { get; init; } = 100_000;

    /// <summary>Reads of the key table made to authenticate (per key, or the set of ids): a figure for tests and diagnostics.</summary>
    public long DatabaseReads => Interlocked.Read(ref _reads);

    public static readonly string CreateTableSql = $"""
        create schema if not exists {RegistryStore.Schema};
        create table if not exists {Table} (
            id            text primary key,
            name          text not null,
            owner         text not null,
            issuers       text[] not null default array[]::text[],
            secret_sha256 bytea not null,
            grants        jsonb not null,
            created_by    text not null,
            created_at    timestamptz not null default now(),
            revoked_at    timestamptz,
            revoked_by    text,
            workspace     text not null default '{WorkspaceId.Default.Slug}'
        );
        -- A table from before workspaces: its keys are the default workspace's, and names are unique per workspace
        -- (a name taken in another workspace must not be refused here: that would tell of the other workspace).
        alter table {Table} add column if not exists workspace text not null default '{WorkspaceId.Default.Slug}';
        alter table {Table} drop constraint if exists api_keys_name_key;
        create unique index if not exists ux_api_keys_workspace_name on {Table} (workspace, name);
        """;

    /// <summary>Splits a presented key into id and secret; a key not in the esr_ format can only be a configured bootstrap key.</summary>
    public static (string Id, string Secret) Parse(string key)
    {
        if (key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var end = key.IndexOf('_', Prefix.Length);
            if (end > Prefix.Length && end < key.Length - 1) return (key[Prefix.Length..end], key[(end + 1)..]);
        }
        return (BootstrapId, key);
    }

    /// <summary>
    /// SHA-256 without salt or key stretching: the secret is 256 random bits, so there is no dictionary to precompute
    /// and no guess cheaper than 2^255 tries; salts and slow KDFs defend low-entropy passwords, which these are not.
    /// </summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static (string Id, string Key) NewKey()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The key's principal, from memory or one indexed read; null for an unknown, wrong or revoked key.</summary>
    public async Task<ApiKeyRecord?> Authenticate(string presented, CancellationToken ct)
    {
        var (id, secret) = Parse(presented);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(id, out var cached) && cached.ExpiresAt > now) return Check(cached.Key, secret);

        // A TTL of 0 (or less) turns the set off: every unknown key is read.
        if (UnknownKeyTtl > TimeSpan.Zero && (await Known(ct)).Ids is { } ids && !ids.Contains(id)) return null;

        var key = await Find(id, ct);
        Interlocked.Increment(ref _reads);
        if (key is null || !key.Active)
        {
            _cache.TryRemove(id, out _);
            return null;
        }
        if (_cache.Count >= MaxCachedKeys) _cache.Clear();
        _cache[id] = (key, now + CacheTtl);
        return Check(key, secret);
    }

    private static ApiKeyRecord? Check(ApiKeyRecord key, string secret) =>
        CryptographicOperations.FixedTimeEquals(key.SecretSha256, Hash(secret)) ? key : null;

    /// <summary>The set of active key ids, read again when older than <see cref="UnknownKeyTtl"/>; one read at a time.</summary>
    private Task<KnownIds> Known(CancellationToken ct)
    {
        if (_known is { } known && time.GetUtcNow() - known.LoadedAt < UnknownKeyTtl) return Task.FromResult(known);
        lock (_loadingLock)
        {
            if (_known is { } fresh && time.GetUtcNow() - fresh.LoadedAt < UnknownKeyTtl) return Task.FromResult(fresh);
            // Shared by every caller that misses meanwhile, so a flood waits on one read; not cancelled by any one caller.
            if (_loading is not { IsCompleted: false }) _loading = LoadKnown(_generation);
            return _loading;
        }

        async Task<KnownIds> LoadKnown(long generation)
        {
            await Task.Yield(); // out of the lock before touching the database
            // Taken before the read: a key committed while it runs may be missing, and counts as unknown from here.
            var loadedAt = time.GetUtcNow();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            await using (var command = data.CreateCommand($"select id from {Table} where revoked_at is null limit {MaxKnownIds + 1}"))
            await using (var reader = await command.ExecuteReaderAsync(CancellationToken.None))
                while (await reader.ReadAsync(CancellationToken.None)) ids.Add(reader.GetString(0));
            Interlocked.Increment(ref _reads);
            if (ids.Count > MaxKnownIds)
                logger.LogWarning("More than {Max} active API keys: unknown keys are no longer refused from memory", MaxKnownIds);
            var loaded = new KnownIds(ids.Count > MaxKnownIds ? null : ids, loadedAt);
            // A key made or revoked here while this read ran: keep the set out of the cache, the next miss reads again.
            lock (_loadingLock) if (generation == _generation) _known = loaded;
            return loaded;
        }
    }

    /// <summary>Forgets the set of known ids (a key was made or revoked here): the next unknown id reads it again.</summary>
    private void ForgetKnownIds()
    {
        lock (_loadingLock)
        {
            _generation++;
            _known = null;
            _loading = null;
        }
    }

    /// <summary>
    /// The key's principal for a request to <paramref name="workspace"/>: a membership claim per workspace it may
    /// address, and the grant claims of that workspace only (the platform-admin role on every request), so no policy
    /// can count a grant the key holds in another workspace.
    /// </summary>
    public static ClaimsPrincipal PrincipalOf(ApiKeyRecord key, string scheme, WorkspaceId workspace)
    {
        var identity = new ClaimsIdentity(scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, key.Name));
        identity.AddClaim(new Claim(AccessClaims.Actor, key.Actor));
        identity.AddClaim(new Claim(AccessClaims.KeyId, key.Id));
        identity.AddClaim(new Claim(AccessClaims.Owner, key.Owner));
        foreach (var issuer in key.Issuers) identity.AddClaim(new Claim(AccessClaims.KeyIssuer, issuer));
        foreach (var member in key.Workspaces) identity.AddClaim(new Claim(AccessClaims.Workspace, member));
        if (key.IsPlatformAdmin) identity.AddClaim(new Claim(AccessClaims.Grant, Roles.PlatformAdmin));
        foreach (var grant in key.GrantsIn(workspace)) identity.AddClaims(AccessClaims.ClaimsFor(grant with { Workspace = null }));
        return new ClaimsPrincipal(identity);
    }

    public async Task<ApiKeyRecord?> Find(string id, CancellationToken ct)
    {
        await using var command = data.CreateCommand($"select {Columns} from {Table} where id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>
    /// The keys of <paramref name="workspace"/> and the platform keys holding a grant in it; for the platform, the
    /// platform's keys. Callers show a platform key's grants in the workspace only.
    /// </summary>
    public async Task<IReadOnlyList<ApiKeyRecord>> List(WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            $"select {Columns} from {Table} where workspace = $1 " +
            $"or (workspace = $2 and grants @> jsonb_build_array(jsonb_build_object('workspace', $1::text))) order by created_at, id");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.Slug });
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.Slug });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var keys = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(ct)) keys.Add(Read(reader));
        return keys;
    }

    /// <summary>
    /// Stores a new key for <paramref name="owner"/> and appends <see cref="ApiKeyCreated"/> in the same transaction;
    /// null when the name is taken. Its issuers are the creator's owner and the creator's own issuers: whoever made
    /// the key saw its secret, and so did whoever could use the key that made it.
    /// </summary>
    public async Task<(ApiKeyRecord Record, string Key)?> Create(WorkspaceId workspace, string name, string owner, IReadOnlyList<Grant> grants,
        Principal creator, CommandContext context, CancellationToken ct)
    {
        var (id, key) = NewKey();
        var issuers = new List<string> { creator.Owner };
        foreach (var issuer in creator.Issuers)
            if (!issuers.Any(i => Principal.SameOwner(i, issuer))) issuers.Add(issuer);

        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var record = await Insert(connection, transaction, workspace, id, name, owner, issuers, Hash(Parse(key).Secret), grants, creator.Actor, ct);
        if (record is null) return null;
        await AppendAsync(transaction, workspace, context, ct,
            new ApiKeyCreated(record.Id, record.Name, record.Owner, record.EventGrants, record.Issuers));
        await transaction.CommitAsync(ct);
        ForgetKnownIds();
        logger.LogInformation("API key {KeyId} ({Name}, owner {Owner}) created by {Actor}", record.Id, record.Name, record.Owner, creator.Actor);
        return (record, key);
    }

    /// <summary>Inserts a key row in the caller's transaction; null when the name (or, by a 2^-64 chance, the id) is taken.</summary>
    public static async Task<ApiKeyRecord?> Insert(NpgsqlConnection connection, NpgsqlTransaction transaction, WorkspaceId workspace, string id,
        string name, string owner, IReadOnlyList<string> issuers, byte[] secretSha256, IReadOnlyList<Grant> grants, string createdBy, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"insert into {Table} (id, name, owner, issuers, secret_sha256, grants, created_by, workspace) values ($1, $2, $3, $4, $5, $6, $7, $8) " +
            $"on conflict do nothing returning {Columns}", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = issuers.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = secretSha256 });
        command.Parameters.Add(new NpgsqlParameter { Value = SerializeGrants(grants), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = createdBy });
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.Slug });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>
    /// Revokes a key of <paramref name="workspace"/> and appends <see cref="ApiKeyRevoked"/> to that workspace's access
    /// stream in the same transaction, then forgets it on this node at once. A revoked key is answered as it is, with
    /// no event; null for an id that is not a key of that workspace (another workspace's key is as unknown as none).
    /// </summary>
    public async Task<ApiKeyRecord?> Revoke(WorkspaceId workspace, string id, CommandContext context, CancellationToken ct)
    {
        ApiKeyRecord? record;
        await using (var connection = await data.OpenConnectionAsync(ct))
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            await using (var command = new NpgsqlCommand(
                             $"update {Table} set revoked_at = now(), revoked_by = $2 where id = $1 and workspace = $3 and revoked_at is null returning {Columns}",
                             connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = id });
                command.Parameters.Add(new NpgsqlParameter { Value = context.Actor });
                command.Parameters.Add(new NpgsqlParameter { Value = workspace.Slug });
                await using var reader = await command.ExecuteReaderAsync(ct);
                record = await reader.ReadAsync(ct) ? Read(reader) : null;
            }
            if (record is not null)
            {
                await AppendAsync(transaction, workspace, context, ct, new ApiKeyRevoked(record.Id, record.Name, record.Owner));
                await transaction.CommitAsync(ct);
            }
        }
        _cache.TryRemove(id, out _);
        ForgetKnownIds();
        if (record is null) return await Find(id, ct) is { } found && found.Workspace == workspace.Slug ? found : null;
        logger.LogInformation("API key {KeyId} ({Name}) revoked by {Actor}", id, record.Name, context.Actor);
        return record;
    }

    /// <summary>
    /// Appends access events to <paramref name="workspace"/>'s access stream in the caller's transaction (Marten enlists
    /// in it and leaves the commit to the caller): a key's events are its own workspace's (the platform's for a platform key).
    /// </summary>
    public async Task AppendAsync(NpgsqlTransaction transaction, WorkspaceId workspace, CommandContext context, CancellationToken ct, params object[] events)
    {
        // The workspace's access events take turns (the lock is the transaction's, released at its commit): the first two
        // keys of a new workspace would otherwise both start its access stream, and one would fail on the stream's id.
        // Key changes are rare, so waiting costs nothing; a retry would have to redo the key's row as well.
        await using (var turn = new NpgsqlCommand("select pg_advisory_xact_lock(hashtext($1))", transaction.Connection, transaction))
        {
            turn.Parameters.AddWithValue($"{RegistryStore.Schema}.access_stream/{workspace.TenantId}");
            await turn.ExecuteNonQueryAsync(ct);
        }
        var options = SessionOptions.ForTransaction(transaction, shouldAutoCommit: false);
        options.TenantId = workspace.TenantId;
        await using var session = store.LightweightSession(options);
        context.ApplyTo(session);
        session.Events.Append(AccessStream.Id, events);
        await session.SaveChangesAsync(ct);
    }

    public const string Columns = "id, name, owner, issuers, secret_sha256, grants, created_by, created_at, revoked_at, revoked_by, workspace";

    private static readonly JsonSerializerOptions GrantJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string SerializeGrants(IReadOnlyList<Grant> grants) => JsonSerializer.Serialize(grants, GrantJson);

    public static IReadOnlyList<Grant> DeserializeGrants(string json) => JsonSerializer.Deserialize<List<Grant>>(json, GrantJson) ?? [];

    public static ApiKeyRecord Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3),
        reader.GetFieldValue<byte[]>(4), DeserializeGrants(reader.GetString(5)),
        reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7),
        reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
        reader.IsDBNull(9) ? null : reader.GetString(9), reader.GetString(10));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
