using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Idempotency;
using Marten;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// Idempotency-Key handling. A successful command stores its response under the key in the same transaction
/// as its events; a retry with the same key and request replays that response and appends nothing, and the
/// same key with another request is refused with 422. Refusals are not remembered: a retry decides again.
/// </summary>
public sealed class Idempotent
{
    public const string Header = "Idempotency-Key";
    private const int MaxKeyLength = 200;

    private Idempotent(string? key, string fingerprint, IResult? problem)
    {
        Key = key;
        Fingerprint = fingerprint;
        Problem = problem;
    }

    public string? Key { get; }
    public string Fingerprint { get; }
    public IResult? Problem { get; }

    public static Idempotent From(HttpContext http, object request)
    {
        var key = http.Request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(key)) return new Idempotent(null, "", null);
        if (key.Length > MaxKeyLength || key.Any(char.IsControl))
            return new Idempotent(null, "", Problems.Problem(400, "Malformed Idempotency-Key",
                $"An Idempotency-Key has 1 to {MaxKeyLength} printable characters."));

        // The request as bound, re-serialized: the same JSON with other whitespace or key order is the same request.
        var body = JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), Json.Options);
        var material = Encoding.UTF8.GetBytes($"{http.Request.Method} {http.Request.Path}\n").Concat(body).ToArray();
        return new Idempotent(key, Convert.ToHexStringLower(SHA256.HashData(material)), null);
    }

    public async Task<IResult?> Replay(IDocumentStore store, HttpContext http, CancellationToken ct)
    {
        if (Key is null) return null;
        await using var query = store.QuerySession();
        var record = await query.LoadAsync<IdempotencyRecord>(Key, ct);
        if (record is null) return null;
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

    public void Remember(IDocumentSession session, CommandResponse response, long? revision)
    {
        if (Key is null) return;
        session.Insert(new IdempotencyRecord
        {
            Id = Key,
            Fingerprint = Fingerprint,
            Status = response.Status,
            Body = response.Body is null ? "" : JsonSerializer.Serialize(response.Body, response.Body.GetType(), Json.Options),
            Location = response.Location,
            Revision = revision,
        });
    }
}
