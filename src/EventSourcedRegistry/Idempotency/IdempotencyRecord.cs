namespace EventSourcedRegistry.Idempotency;

/// <summary>
/// The response a command gave, under the caller's Idempotency-Key. Stored in the same transaction as the command's
/// events, so a retry replays it and appends nothing. Scoped to the caller (<see cref="IdOf"/>): another caller's
/// use of the same key is another record. Kept for the configured retention, then purged.
/// </summary>
public sealed class IdempotencyRecord
{
    /// <summary><see cref="IdOf"/> of caller and key.</summary>
    public string Id { get; set; } = "";

    /// <summary>Who sent it: an API key's id or a token's actor.</summary>
    public string? Caller { get; set; }

    /// <summary>The client's Idempotency-Key, as sent.</summary>
    public string? Key { get; set; }

    /// <summary>SHA-256 of method, route and canonical request body: the same key with another request is refused.</summary>
    public string Fingerprint { get; set; } = "";

    public int Status { get; set; }
    public string Body { get; set; } = "";
    public string? Location { get; set; }
    public long? Revision { get; set; }

    /// <summary>When the command committed; null on records written before retention existed (purged first).</summary>
    public DateTimeOffset? StoredAt { get; set; }

    /// <summary>
    /// The document id of a caller's key: length-prefixed, so no caller and key pair can spell another pair's id
    /// (<c>"a:b" + "c"</c> and <c>"a" + "b:c"</c> differ).
    /// </summary>
    public static string IdOf(string caller, string key) => $"{caller.Length}:{caller}:{key}";
}
