using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedRegistry.ConsoleTests.Support;

/// <summary>
/// A small OpenID Connect provider for the console's sign-in tests: discovery, a JWKS holding an RSA key made at start,
/// <c>/authorize</c> that signs the next user in at once (redirecting straight back with a code), and <c>/token</c> that
/// checks the code, the client's secret and the PKCE verifier and answers with a signed ID token (the nonce, the client
/// as audience) and access token (the registry as audience, a roles claim). Served on <c>localhost</c> while the API is
/// on <c>127.0.0.1</c>: another site, as a real provider is.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "esr-console";
    public const string ClientSecret = "console-client-secret";
    public const string RegistryAudience = "esr-registry";

    /// <summary>Who the next sign-in is, and which of its tokens' checks it should fail.</summary>
    public sealed record User(string Subject, string[] Roles, string? Nonce = null, string? IdAudience = null, string? AccessAudience = null);

    private readonly WebApplication _app;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (string Nonce, string Challenge, string RedirectUri, User User)> _codes = new();

    public Uri Authority { get; private set; } = null!;
    public User Next { get; set; } = new("nobody", []);

    /// <summary>Token requests whose PKCE verifier matched the S256 challenge of their authorization request.</summary>
    public int VerifiedPkce;

    private TestIdentityProvider(WebApplication app) => _app = app;

    public static async Task<TestIdentityProvider> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var provider = new TestIdentityProvider(builder.Build());
        provider.Map();
        await provider._app.StartAsync();
        var address = new Uri(provider._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        provider.Authority = new Uri($"http://localhost:{address.Port}");
        return provider;
    }

    private string Issuer => Authority.ToString().TrimEnd('/');

    private void Map()
    {
        _app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = Issuer + "/authorize",
            ["token_endpoint"] = Issuer + "/token",
            ["jwks_uri"] = Issuer + "/jwks",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["code_challenge_methods_supported"] = new[] { "S256" },
        }));
        _app.MapGet("/jwks", () =>
        {
            var key = _rsa.ExportParameters(false);
            return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = "test-key", n = Base64UrlEncoder.Encode(key.Modulus), e = Base64UrlEncoder.Encode(key.Exponent) } } });
        });
        _app.MapGet("/authorize", (HttpContext http) =>
        {
            var q = http.Request.Query;
            if (q["client_id"] != ClientId || q["response_type"] != "code" || q["code_challenge_method"] != "S256" || string.IsNullOrEmpty(q["code_challenge"]))
                return Results.BadRequest("not a code flow request with PKCE from the console");
            var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
            _codes[code] = (q["nonce"].ToString(), q["code_challenge"].ToString(), q["redirect_uri"].ToString(), Next);
            return Results.Redirect($"{q["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(q["state"].ToString())}");
        });
        _app.MapPost("/token", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            if (form["grant_type"] != "authorization_code" || form["client_id"] != ClientId || form["client_secret"] != ClientSecret
                || !_codes.TryRemove(form["code"].ToString(), out var grant) || form["redirect_uri"] != grant.RedirectUri)
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            var verified = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString())));
            if (verified != grant.Challenge) return Results.Json(new { error = "invalid_grant", error_description = "PKCE" }, statusCode: 400);
            Interlocked.Increment(ref VerifiedPkce);
            var user = grant.User;
            return Results.Json(new
            {
                token_type = "Bearer",
                expires_in = 600,
                id_token = Token(user.IdAudience ?? ClientId, new() { ["sub"] = user.Subject, ["nonce"] = user.Nonce ?? grant.Nonce }),
                access_token = Token(user.AccessAudience ?? RegistryAudience, new() { ["sub"] = user.Subject, ["roles"] = user.Roles }),
            });
        });
    }

    private string Token(string audience, Dictionary<string, object> claims) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer,
        Audience = audience,
        IssuedAt = DateTime.UtcNow,
        NotBefore = DateTime.UtcNow.AddMinutes(-1),
        Expires = DateTime.UtcNow.AddMinutes(10),
        Claims = claims,
        SigningCredentials = new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = "test-key" }, SecurityAlgorithms.RsaSha256),
    });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _rsa.Dispose();
    }
}
