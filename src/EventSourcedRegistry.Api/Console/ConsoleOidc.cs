using System.Security.Claims;
using System.Text.Json;
using EventSourcedRegistry.Api.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// OpenID Connect sign-in to the console, offered when the API takes bearer tokens from an authority
/// (<c>Registry:Auth:Jwt:Authority</c>) and the console has a client id there (<c>Registry:Console:Oidc:ClientId</c>).
/// ASP.NET Core's handler runs the authorization code flow with PKCE and validates the ID token (issuer, audience =
/// client id, signature, lifetime, nonce) and the state. The session's caller then comes from the access token, taken
/// exactly as the API takes it as a bearer token: validated by the API's own JWT bearer handler (audience = the API's),
/// its claims made into grants by the same mapping. Neither token goes into the cookie: the session row keeps the access
/// token's claims and expiry (<see cref="ConsoleSessions"/>), and the cookie names the row, as for an API key.
/// </summary>
public static class ConsoleOidc
{
    public const string Scheme = "ConsoleOidc";
    public const string Section = "Registry:Console:Oidc";
    public const string CallbackPath = ConsoleConfiguration.Root + "/signin-oidc";

    /// <summary>Where the access token waits for the JWT bearer handler during a sign-in (server-set, never from the request).</summary>
    public const string AccessTokenItem = "esr:console-oidc-access-token";

    public static void Add(WebApplicationBuilder builder)
    {
        var jwt = builder.Configuration.GetSection(AccessConfiguration.JwtSection);
        var oidc = builder.Configuration.GetSection(Section);
        if (oidc["ClientId"] is { Length: > 0 } && jwt["Authority"] is not { Length: > 0 })
            throw new InvalidOperationException(
                $"{Section}:ClientId is set but {AccessConfiguration.JwtSection}:Authority is not: the console signs in with OpenID Connect only " +
                "at the authority whose bearer tokens the API takes. Set the authority (and its audience), or remove the client id.");
        if (jwt["Authority"] is not { Length: > 0 } authority || oidc["ClientId"] is not { Length: > 0 } clientId)
        {
            builder.Services.AddSingleton(new ConsoleOidcSettings(false, ""));
            return;
        }
        var display = oidc["DisplayName"] is { Length: > 0 } named ? named : Uri.TryCreate(authority, UriKind.Absolute, out var uri) ? uri.Authority : authority;
        builder.Services.AddSingleton(new ConsoleOidcSettings(true, display));
        builder.Services.AddAuthentication().AddOpenIdConnect(Scheme, display, options =>
        {
            options.Authority = authority;
            // The API's own setting for its bearer tokens' metadata: the same authority, fetched the same way.
            options.RequireHttpsMetadata = jwt.GetValue("RequireHttpsMetadata", true);
            options.ClientId = clientId;
            options.ClientSecret = oidc["ClientSecret"] is { Length: > 0 } secret ? secret : null;
            options.ResponseType = OpenIdConnectResponseType.Code;
            // Back by a top-level GET: a form_post answer is a cross-site POST, which the console's SameSite cookies and
            // its form-action policy are there to refuse.
            options.ResponseMode = OpenIdConnectResponseMode.Query;
            options.UsePkce = true;
            options.CallbackPath = CallbackPath;
            options.SignInScheme = ConsoleSession.Scheme;
            options.SaveTokens = false;
            options.MapInboundClaims = false;
            options.GetClaimsFromUserInfoEndpoint = false;
            options.Scope.Clear();
            options.Scope.Add("openid");
            foreach (var scope in (oidc["Scopes"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) options.Scope.Add(scope);
            // The correlation and nonce cookies come back on the provider's top-level GET redirect (Lax), and are Secure
            // when the console is served over HTTPS (the framework's defaults, SameSite=None and always Secure, are for
            // form_post and would be dropped on a plain-HTTP development host).
            options.CorrelationCookie.SameSite = options.NonceCookie.SameSite = SameSiteMode.Lax;
            options.CorrelationCookie.SecurePolicy = options.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.Events.OnTokenValidated = SignedIn;
            options.Events.OnTicketReceived = Ticket;
            options.Events.OnRemoteFailure = context =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConsoleOidc))
                    .LogWarning(context.Failure, "An OpenID Connect sign-in to the console was refused");
                context.Response.Redirect(ConsoleConfiguration.Root + "/signin?refused=oidc");
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
    }

    /// <summary>
    /// The ID token's signature, issuer, audience and lifetime are valid: the access token must be one the API itself
    /// accepts, and its caller (the API's principal of it) becomes the sign-in's.
    /// </summary>
    private static async Task SignedIn(Microsoft.AspNetCore.Authentication.OpenIdConnect.TokenValidatedContext context)
    {
        var http = context.HttpContext;
        if (context.TokenEndpointResponse?.AccessToken is not { Length: > 0 } accessToken)
        {
            context.Fail("The identity provider answered without an access token.");
            return;
        }
        AuthenticateResult bearer;
        http.Items[AccessTokenItem] = accessToken;
        try { bearer = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme); }
        finally { http.Items.Remove(AccessTokenItem); }
        if (!bearer.Succeeded || bearer.Principal is not { } caller || AccessClaims.ActorOf(caller) is null)
        {
            context.Fail("The access token is not one the registry accepts: " + (bearer.Failure?.Message ?? "no caller"));
            return;
        }
        context.Principal = caller;
    }

    /// <summary>
    /// Every check passed (the handler validates the nonce after <see cref="SignedIn"/>): the session row is written now,
    /// so a refused sign-in leaves none, and the cookie names it.
    /// </summary>
    private static async Task Ticket(TicketReceivedContext context)
    {
        var http = context.HttpContext;
        if (context.Principal is not { } caller || AccessClaims.ActorOf(caller) is not { } actor)
        {
            context.Fail("The sign-in carries no caller.");
            return;
        }
        var (claims, expires) = Kept(caller);
        var session = await http.RequestServices.GetRequiredService<ConsoleSessions>().StartAsync(actor, http.RequestAborted, claims, expires);
        context.Principal = ConsoleSession.SessionOfToken(actor, session);
    }

    /// <summary>What the session row keeps of a validated access token: its own claims (not the server's) and its expiry.</summary>
    public static (string Claims, DateTimeOffset? ExpiresAt) Kept(ClaimsPrincipal caller)
    {
        var claims = caller.Claims.Where(c => !AccessClaims.IsServerClaim(c.Type)).Select(c => new[] { c.Type, c.Value }).ToArray();
        var expires = caller.FindFirst("exp")?.Value is { } exp && long.TryParse(exp, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null;
        return (JsonSerializer.Serialize(claims), expires);
    }

    /// <summary>The sign-in page's link to the provider: a GET, since the console's form-action policy would stop a form's redirect to it.</summary>
    public static string ChallengePath(string? returnUrl) =>
        ConsoleConfiguration.Root + "/signin?handler=oidc" + (returnUrl is { Length: > 0 } ? "&returnUrl=" + Uri.EscapeDataString(returnUrl) : "");
}

/// <summary>Whether the sign-in page offers OpenID Connect, and the provider's name on its button.</summary>
public sealed record ConsoleOidcSettings(bool Enabled, string DisplayName);
