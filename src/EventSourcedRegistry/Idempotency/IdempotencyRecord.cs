namespace EventSourcedRegistry.Idempotency;

/// <summary>
/// The response a command gave, under the client's Idempotency-Key. Stored in the same transaction as the
/// command's events and never expired, so a retry replays it and appends nothing.
/// </summary>
public sealed class IdempotencyRecord
{
    public string Id { get; set; } = "";

    /// <summary>SHA-256 of method, route and canonical request body: the same key with another request is refused.</summary>
    public string Fingerprint { get; set; } = "";

    public int Status { get; set; }
    public string Body { get; set; } = "";
    public string? Location { get; set; }
    public long? Revision { get; set; }
}
