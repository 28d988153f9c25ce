using System.Security.Claims;
using System.Text;
using Alba;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Keys and tokens for tests of who may do what.</summary>
public static class Access
{
    public sealed record CreatedKey(string Id, string Name, string Key)
    {
        public string Actor => $"key:{Name}";
    }

    /// <summary>
    /// Creates a key with these grants (<c>"reader"</c>, <c>"contributor:churn"</c>) through the admin API, each for an
    /// owner of its own (the key's name) unless <see cref="CreateKeyFor"/> names one. Keys outlive the per-test reset,
    /// so each gets a fresh name.
    /// </summary>
    public static Task<CreatedKey> CreateKey(this IAlbaHost host, params string[] grants) => host.CreateKeyFor(null, grants);

    /// <summary>Creates a key for <paramref name="owner"/> (null: an owner of its own), made with the admin key or <paramref name="by"/>.</summary>
    public static async Task<CreatedKey> CreateKeyFor(this IAlbaHost host, string? owner, string[] grants, HttpClient? by = null)
    {
        var name = $"test-{Guid.NewGuid():N}";
        var body = new
        {
            name,
            owner = owner ?? name,
            grants = grants.Select(g => g.Split(':', 2) is [var role, var model] ? new { role, model = (string?)model } : new { role = g, model = (string?)null }),
        };
        var response = by is null ? await host.Post("/api/v1/admin/keys", body) : await by.Send(HttpMethod.Post, "/api/v1/admin/keys", body);
        Assert.True(response.Status == 201, $"creating a key with {string.Join(", ", grants)}: {response.Status} {response.Body}");
        return new CreatedKey(response.Body!["id"]!.GetValue<string>(), response.Body["name"]!.GetValue<string>(), response.Body["key"]!.GetValue<string>());
    }

    /// <summary>A client that sends a new key holding these grants.</summary>
    public static async Task<HttpClient> ClientWithRoles(this IAlbaHost host, params string[] grants) =>
        host.ClientWithKey((await host.CreateKey(grants)).Key);

    /// <summary>A token the test host accepts (signed with its configured key), for this subject and these role values.</summary>
    public static string Token(string subject, string[] roles, TimeSpan? lifetime = null, string audience = AppFixture.JwtAudience,
        string signingKey = AppFixture.JwtSigningKey, params (string Type, string Value)[] extraClaims)
    {
        var claims = new List<Claim> { new("sub", subject) };
        claims.AddRange(roles.Select(r => new Claim("roles", r)));
        claims.AddRange(extraClaims.Select(c => new Claim(c.Type, c.Value)));
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = AppFixture.JwtIssuer,
            Audience = audience,
            NotBefore = now.AddMinutes(-10),
            IssuedAt = now.AddMinutes(-10),
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(10)),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    public static HttpClient ClientWithToken(this IAlbaHost host, string token)
    {
        var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
