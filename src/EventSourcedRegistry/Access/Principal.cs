namespace EventSourcedRegistry.Access;

/// <summary>
/// Who acted, as four eyes judges it: the <see cref="Actor"/> events record (<c>key:&lt;name&gt;</c>,
/// <c>jwt:&lt;subject&gt;</c>), the <see cref="Owner"/> (the person or service behind it: a key's owner, a token's
/// subject), the key used (null for a token) and that key's <see cref="Issuers"/> (the owners who could have seen its
/// secret when it was made: its creator's owner, and up the chain of keys that made keys).
/// </summary>
public sealed record Principal(string Actor, string Owner, string? KeyId, IReadOnlyList<string> Issuers)
{
    public const string KeyActorPrefix = "key:";
    public const string TokenActorPrefix = "jwt:";

    /// <summary>
    /// The owner an actor stands for when nothing else is known (events and keys from before owners existed): a key
    /// is its own owner, <c>key:&lt;name&gt;</c>, which no key made since can claim; a token's owner is its subject.
    /// </summary>
    public static string OwnerOfActor(string actor) =>
        actor.StartsWith(TokenActorPrefix, StringComparison.Ordinal) ? actor[TokenActorPrefix.Length..] : actor;

    /// <summary>A principal known only by its actor (an event from before owners existed).</summary>
    public static Principal FromActor(string actor) => new(actor, OwnerOfActor(actor), null, []);

    /// <summary>Owners compare without regard to case: merging two owners only ever refuses an approval, never grants one.</summary>
    public static bool SameOwner(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Why two principals may be one party, or null when they are independent: the same owner, or one's owner made
    /// (and so saw the secret of) the other's key, directly or through keys it made.
    /// </summary>
    public static string? SameParty(Principal first, Principal second)
    {
        if (string.Equals(first.Actor, second.Actor, StringComparison.Ordinal)) return $"{first.Actor} is one caller";
        if (SameOwner(first.Owner, second.Owner)) return $"{first.Actor} and {second.Actor} both belong to {first.Owner}";
        if (second.Issuers.FirstOrDefault(i => SameOwner(i, first.Owner)) is { } issuedBySecond)
            return $"{second.Actor} is a key {issuedBySecond} issued, and {first.Actor} belongs to {first.Owner}";
        if (first.Issuers.FirstOrDefault(i => SameOwner(i, second.Owner)) is { } issuedByFirst)
            return $"{first.Actor} is a key {issuedByFirst} issued, and {second.Actor} belongs to {second.Owner}";
        return null;
    }
}
