using System.Net;
using System.Security.Claims;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// Who is calling, as one stable string: what idempotency keys, recorded uploads and rate limits are scoped to.
/// An API key is its key id (<c>key-id:&lt;id&gt;</c>); a token is its actor (<c>jwt:&lt;sub&gt;</c>).
/// </summary>
public static class Callers
{
    /// <summary>The key id claim <see cref="ApiKeys.PrincipalOf"/> gives a key's principal.</summary>
    public const string KeyIdClaim = "esr:key-id";

    /// <summary>The caller of an authenticated principal; null for an anonymous one.</summary>
    public static string? Of(ClaimsPrincipal user)
    {
        if (user.Identity is not { IsAuthenticated: true } identity) return null;
        // Only the API key scheme sets the key id; a token cannot name a key, whatever claims it carries.
        if (identity.AuthenticationType == ApiKeyAuthenticationHandler.SchemeName && user.FindFirst(KeyIdClaim)?.Value is { Length: > 0 } keyId)
            return "key-id:" + keyId;
        // The server adds its actor claim after the token's own claims: the last one is the server's.
        return user.FindAll(AccessClaims.Actor).LastOrDefault()?.Value is { Length: > 0 } actor ? actor : null;
    }

    /// <summary>The caller, or for an anonymous request its remote address (what rate limits partition by).</summary>
    public static string PartitionOf(HttpContext http) =>
        Of(http.User) ?? "address:" + (http.Connection.RemoteIpAddress is { } address ? Normalize(address) : "unknown");

    private static string Normalize(IPAddress address) =>
        (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
