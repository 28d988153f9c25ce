using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Idempotency;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// Idempotency-Key handling. A successful command stores its response under the caller's key in the same
/// transaction as its events; a retry by the same caller with the same key and request replays that response and
/// appends nothing, and the same key with another request is refused with 422. Keys are the caller's own: another
/// caller's use of the same key is a new command and never sees this caller's response. Refusals are not
/// remembered: a retry decides again. Records expire after <see cref="IdempotencySettings.Retention"/>.
/// </summary>
public sealed class Idempotent
{
    public const string Header = "Idempotency-Key";
    private const int MaxKeyLength = 200;

    private Idempotent(string? key, string recordId, string caller, string fingerprint, IdempotencySettings? settings, IResult? problem)
    {
        Key = key;
        RecordId = recordId;
        Caller = caller;
        Fingerprint = fingerprint;
        _settings = settings;
        Problem = problem;
    }

    private readonly IdempotencySettings? _settings;

    public string? Key { get; }
    /// <summary>The record's id: the key scoped to the caller.</summary>
    public string RecordId { get; }
    public string Caller { get; }
    public string Fingerprint { get; }
    public IResult? Problem { get; }

    public static Idempotent From(HttpContext http, object request, IdempotencySettings settings)
    {
        var key = http.Request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(key)) return new Idempotent(null, "", "", "", null, null);
        if (key.Length > MaxKeyLength || key.Any(char.IsControl))
            return new Idempotent(null, "", "", "", null, Problems.Problem(400, "Malformed Idempotency-Key",
                $"An Idempotency-Key has 1 to {MaxKeyLength} printable characters."));

        // Commands need an authenticated caller, so there always is one here.
        var caller = Callers.Of(http.User) ?? throw new InvalidOperationException("A command reached idempotency handling without a caller.");
        // The request as bound, re-serialized: the same JSON with other whitespace or key order is the same request.
        var body = JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), Json.Options);
        var material = Encoding.UTF8.GetBytes($"{http.Request.Method} {http.Request.Path}\n").Concat(body).ToArray();
        return new Idempotent(key, IdempotencyRecord.IdOf(caller, key), caller, Convert.ToHexStringLower(SHA256.HashData(material)), settings, null);
    }

    public async Task<IResult?> Replay(WorkspaceStore store, HttpContext http, CancellationToken ct)
    {
        if (Key is null) return null;
        IdempotencyRecord? record;
        await using (var query = store.QuerySession())
            record = await query.LoadAsync<IdempotencyRecord>(RecordId, ct);
        if (record is null) return null;
        if (record.StoredAt is not { } storedAt || storedAt < _settings!.Cutoff())
        {
            await Forget(store, RecordId, _settings!.Cutoff(), ct);
            return null;
        }
        if (record.Fingerprint != Fingerprint)
            return Problems.Problem(422, "Idempotency-Key reused",
                "This Idempotency-Key was already used with a different request; use a new key for a new request.");

        http.Response.Headers["Idempotent-Replayed"] = "true";
        if (record.Revision is { } revision) Revisions.Write(http.Response, revision);
        if (record.Location is { } location) http.Response.Headers.Location = location;
        return record.Body.Length == 0
            ? Results.StatusCode(record.Status)
            : Results.Text(record.Body, "application/json", Encoding.UTF8, record.Status);
    }

    /// <summary>
    /// Drops an expired record so this request can store its own under the key. Only while it is still expired: a
    /// concurrent send of the same key may have replaced it with a fresh one, which must stay (its insert or ours then
    /// fails on the id, and the loser replays the winner).
    /// </summary>
    private static async Task Forget(WorkspaceStore store, string id, DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        session.DeleteWhere<IdempotencyRecord>(r => r.Id == id && (r.StoredAt == null || r.StoredAt < cutoff));
        await session.SaveChangesAsync(ct);
    }

    public void Remember(IDocumentSession session, CommandResponse response, long? revision)
    {
        if (Key is null) return;
        session.Insert(new IdempotencyRecord
        {
            Id = RecordId,
            Caller = Caller,
            Key = Key,
            Fingerprint = Fingerprint,
            Status = response.Status,
            Body = response.Body is null ? "" : JsonSerializer.Serialize(response.Body, response.Body.GetType(), Json.Options),
            Location = response.Location,
            Revision = revision,
            StoredAt = _settings!.Time.GetUtcNow(),
        });
    }
}

/// <summary><c>Registry:Idempotency</c>: how long a command's response is kept for retries under its key.</summary>
public sealed class IdempotencySettings
{
    public const string Section = "Registry:Idempotency";
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);

    public TimeSpan Retention { get; set; } = DefaultRetention;

    /// <summary>The clock records are stamped and judged by.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Records stored before this instant have expired.</summary>
    public DateTimeOffset Cutoff() => Time.GetUtcNow() - Retention;

    public static IdempotencySettings From(IConfiguration configuration, TimeProvider time)
    {
        var retention = configuration.GetValue($"{Section}:Retention", DefaultRetention);
        if (retention <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:Retention must be a positive duration (d.hh:mm:ss), e.g. 7.00:00:00.");
        return new IdempotencySettings { Retention = retention, Time = time };
    }
}

/// <summary>
/// Purges expired idempotency records: at start, then every hour (or every retention, if shorter). A hosted service
/// with a periodic timer, as the audit checkpoint signer: Marten keeps no expiry on documents and the registry runs no
/// Wolverine message handlers to schedule. Every node purges; the delete is a range delete on an indexed column, so
/// two nodes purging at once only do the same small work twice.
/// </summary>
public sealed class IdempotencyRetention(IDocumentStore store, Npgsql.NpgsqlDataSource data, IdempotencySettings settings,
    ILogger<IdempotencyRetention> logger) : BackgroundService
{
    /// <summary>Every workspace's records are its own (one per tenant), so each is purged in its own session.</summary>
    public async Task PurgeAsync(CancellationToken ct)
    {
        var cutoff = settings.Cutoff();
        foreach (var workspace in await WorkspacePartitions.AllAsync(data, ct))
        {
            await using var session = new WorkspaceStore(store, workspace).LightweightSession();
            session.DeleteWhere<IdempotencyRecord>(r => r.StoredAt == null || r.StoredAt < cutoff);
            await session.SaveChangesAsync(ct);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = settings.Retention < TimeSpan.FromHours(1) ? settings.Retention : TimeSpan.FromHours(1);
        using var timer = new PeriodicTimer(every);
        do
        {
            try
            {
                await PurgeAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Purging expired idempotency records failed; trying again in {Interval}", every);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
