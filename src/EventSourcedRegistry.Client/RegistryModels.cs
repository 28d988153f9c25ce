using System.Text.Json;

namespace EventSourcedRegistry.Client;

// The client's own parameter objects; the records the wire carries are in EventSourcedRegistry.Contracts.V1.

/// <summary>Filters of the model list; <see cref="Tags"/> keeps models carrying every one of those key/value tags.</summary>
public sealed record ModelQuery(
    string? Prefix = null,
    string? Stage = null,
    bool IncludeArchived = false,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? Cursor = null,
    int? Limit = null);

/// <summary>Where to roll back to: an instant or a global sequence (exactly one).</summary>
public sealed record RollbackRequest(string Reason, DateTimeOffset? AsOf = null, long? AtSequence = null, bool DryRun = false);

/// <summary>Filters of the audit log; <see cref="From"/> and <see cref="To"/> are sequences or RFC 3339 instants.</summary>
public sealed record AuditQuery(
    string? Actor = null,
    string? Model = null,
    IReadOnlyList<string>? Types = null,
    string? From = null,
    string? To = null,
    string? Cursor = null,
    int? Limit = null);
