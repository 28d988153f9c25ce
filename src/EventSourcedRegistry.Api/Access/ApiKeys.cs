using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Store;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedRegistry.Api.Access;

/// <summary>A key as stored: never its secret, only the secret's SHA-256.</summary>
public sealed record ApiKeyRecord(string Id, string Name, byte[] SecretSha256, IReadOnlyList<Grant> Grants,
    string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? RevokedBy)
{
    public string Actor => ApiKeys.ActorPrefix + Name;
    public bool Active => RevokedAt is null;
}

/// <summary>
/// API keys: <c>esr_&lt;keyId&gt;_&lt;secret&gt;</c>, the secret 256 random bits. The table <c>registry.api_keys</c>
/// keeps the SHA-256 of the secret, never the secret; a presented key is found by its id and its secret's hash
/// compared in constant time. Validated keys are cached in memory for <see cref="CacheTtl"/> so a request costs no
/// database round trip; revoking evicts the key on this node at once, other nodes stop accepting it within the TTL.
/// </summary>
public sealed class ApiKeys(NpgsqlDataSource data, IConfiguration configuration, ILogger<ApiKeys> logger)
{
    public const string Prefix = "esr_";
    public const string ActorPrefix = "key:";
    /// <summary>The id of a configured bootstrap key that is not in the <c>esr_</c> format.</summary>
    public const string BootstrapId = "bootstrap-admin";
    public const string Table = RegistryStore.Schema + ".api_keys";

    private readonly ConcurrentDictionary<string, (ApiKeyRecord Key, long ExpiresAt)> _cache = new(StringComparer.Ordinal);

    public TimeSpan CacheTtl { get; } = TimeSpan.FromSeconds(configuration.GetValue("Registry:Auth:ApiKeyCacheSeconds", 30));

    public static readonly string CreateTableSql = $"""
        create schema if not exists {RegistryStore.Schema};
        create table if not exists {Table} (
            id            text primary key,
            name          text not null unique,
            secret_sha256 bytea not null,
            grants        jsonb not null,
            created_by    text not null,
            created_at    timestamptz not null default now(),
            revoked_at    timestamptz,
            revoked_by    text
        );
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

    /// <summary>The key's principal, from the cache or one indexed read; null for an unknown, wrong or revoked key.</summary>
    public async Task<ApiKeyRecord?> Authenticate(string presented, CancellationToken ct)
    {
        var cacheKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
        var now = Environment.TickCount64;
        if (_cache.TryGetValue(cacheKey, out var cached) && cached.ExpiresAt > now) return cached.Key;

        var (id, secret) = Parse(presented);
        var key = await Find(id, ct);
        if (key is null || !key.Active || !CryptographicOperations.FixedTimeEquals(key.SecretSha256, Hash(secret)))
        {
            _cache.TryRemove(cacheKey, out _);
            return null;
        }
        if (_cache.Count > 10_000) _cache.Clear();
        _cache[cacheKey] = (key, now + (long)CacheTtl.TotalMilliseconds);
        return key;
    }

    public static ClaimsPrincipal PrincipalOf(ApiKeyRecord key, string scheme)
    {
        var identity = new ClaimsIdentity(scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, key.Name));
        identity.AddClaim(new Claim(AccessClaims.Actor, key.Actor));
        identity.AddClaim(new Claim("esr:key-id", key.Id));
        foreach (var grant in key.Grants) identity.AddClaims(AccessClaims.ClaimsFor(grant));
        return new ClaimsPrincipal(identity);
    }

    public async Task<ApiKeyRecord?> Find(string id, CancellationToken ct)
    {
        await using var command = data.CreateCommand($"select {Columns} from {Table} where id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> List(CancellationToken ct)
    {
        await using var command = data.CreateCommand($"select {Columns} from {Table} order by created_at, id");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var keys = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(ct)) keys.Add(Read(reader));
        return keys;
    }

    /// <summary>Stores a new key; null when the name is taken.</summary>
    public async Task<(ApiKeyRecord Record, string Key)?> Create(string name, IReadOnlyList<Grant> grants, string createdBy, CancellationToken ct)
    {
        var (id, key) = NewKey();
        var record = await Insert(id, name, Hash(Parse(key).Secret), grants, createdBy, ct);
        return record is null ? null : (record, key);
    }

    public async Task<ApiKeyRecord?> Insert(string id, string name, byte[] secretSha256, IReadOnlyList<Grant> grants, string createdBy,
        CancellationToken ct, NpgsqlConnection? connection = null)
    {
        const string columns = "id, name, secret_sha256, grants, created_by";
        var sql = $"insert into {Table} ({columns}) values ($1, $2, $3, $4, $5) on conflict do nothing returning {Columns}";
        await using var command = connection is null ? data.CreateCommand(sql) : new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = secretSha256 });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(grants, GrantJson), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = createdBy });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Revokes a key (a no-op for a revoked one) and forgets it on this node at once; null for an unknown id.</summary>
    public async Task<ApiKeyRecord?> Revoke(string id, string revokedBy, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            $"update {Table} set revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $2) where id = $1 returning {Columns}");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = revokedBy });
        ApiKeyRecord? record;
        await using (var reader = await command.ExecuteReaderAsync(ct))
            record = await reader.ReadAsync(ct) ? Read(reader) : null;
        foreach (var entry in _cache.Where(e => e.Value.Key.Id == id).ToList()) _cache.TryRemove(entry.Key, out _);
        if (record is not null) logger.LogInformation("API key {KeyId} ({Name}) revoked by {Actor}", id, record.Name, revokedBy);
        return record;
    }

    private const string Columns = "id, name, secret_sha256, grants, created_by, created_at, revoked_at, revoked_by";

    private static readonly JsonSerializerOptions GrantJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private static ApiKeyRecord Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2),
        JsonSerializer.Deserialize<List<Grant>>(reader.GetString(3), GrantJson) ?? [],
        reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5),
        reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
        reader.IsDBNull(7) ? null : reader.GetString(7));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
