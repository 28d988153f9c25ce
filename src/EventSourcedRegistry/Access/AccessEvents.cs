namespace EventSourcedRegistry.Access;

// API keys are rows of registry.api_keys (the secret's hash has to be looked up per request), and every change to
// them is also an event in the registry's access stream, appended in the same transaction as the row: so who made
// or revoked which key, for whom, shows in the audit log and the hash chain covers it. Never a secret or its hash.

/// <summary>The registry's access stream: key events, beside the model streams. Fixed, so every node finds the same one.</summary>
public static class AccessStream
{
    public static readonly Guid Id = Guid.Parse("e5f0c1a2-0000-4000-8000-000000000002");

    public static readonly Type[] EventTypes = [typeof(ApiKeyCreated), typeof(ApiKeyRevoked), typeof(ApiKeyRecorded)];
}

/// <summary>
/// A role a key grants, workspace-wide (no model) or for one model (its id, and its name when the key was made), in
/// <see cref="Workspace"/>: null for the key's own workspace (every grant before workspaces, and every grant of a
/// workspace's key), a slug for a platform key's grant in that workspace.
/// </summary>
public sealed record KeyGrant(string Role, Guid? ModelId = null, string? Model = null, string? Workspace = null);

/// <summary>
/// An API key was made. <see cref="Owner"/> is the person or service it belongs to (set by its creator, never changed);
/// <see cref="Issuers"/> the owners who could have seen its secret when it was shown: the owner of the key that made
/// it, and that key's own issuers (nearest first). The event's actor is the caller who made it.
/// </summary>
public sealed record ApiKeyCreated(string KeyId, string Name, string Owner, IReadOnlyList<KeyGrant> Grants, IReadOnlyList<string> Issuers);

/// <summary>An API key was revoked for good; the event's actor is who revoked it.</summary>
public sealed record ApiKeyRevoked(string KeyId, string Name, string Owner);

/// <summary>
/// A key that existed before key events did, recorded once when a store is upgraded, with the owner the upgrade gave
/// it (its own actor, <c>key:&lt;name&gt;</c>: nobody else's) and what the key table knew of its making and revocation.
/// </summary>
public sealed record ApiKeyRecorded(string KeyId, string Name, string Owner, IReadOnlyList<KeyGrant> Grants, IReadOnlyList<string> Issuers,
    string CreatedBy, DateTimeOffset CreatedAt, string? RevokedBy, DateTimeOffset? RevokedAt);
