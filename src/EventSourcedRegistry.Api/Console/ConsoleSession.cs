using System.Security.Claims;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// The console's session: an API key, presented once to the sign-in form, exchanged for an encrypted cookie (ASP.NET
/// Core cookie authentication over the shared Data Protection key ring) that carries the key's id and actor, never its
/// secret. Every request reads the key's row and the session's row again (<see cref="ApiKeys.Find"/>, uncached): a revoked key's session dies
/// at its next request, on any node, and the request's principal is the one the API builds for the key
/// (<see cref="ApiKeys.PrincipalOf"/>, for the request's workspace), so the console holds exactly the key's grants.
/// </summary>
public static class ConsoleSession
{
    public const string Scheme = "Console";
    public const string CookieName = "esr-console";
    public const string IdleTimeoutSetting = "Registry:Console:IdleTimeout";
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(30);

    public static void Add(WebApplicationBuilder builder)
    {
        var idle = IdleTimeoutOf(builder.Configuration);
        builder.Services.AddAuthentication().AddCookie(Scheme, options =>
        {
            options.Cookie.Name = CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.Cookie.Path = ConsoleConfiguration.Root;
            // Idle expiry: each request past half the window renews it; a session left alone for the window ends.
            options.ExpireTimeSpan = idle;
            options.SlidingExpiration = true;
            options.LoginPath = ConsoleConfiguration.Root + "/signin";
            options.LogoutPath = ConsoleConfiguration.Root + "/signout";
            options.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
            options.Events.OnValidatePrincipal = Validate;
        });
    }

    public static TimeSpan IdleTimeoutOf(IConfiguration configuration)
    {
        var idle = configuration.GetValue(IdleTimeoutSetting, DefaultIdleTimeout);
        if (idle <= TimeSpan.Zero) throw new InvalidOperationException($"{IdleTimeoutSetting} must be positive; it is {idle:c}.");
        return idle;
    }

    /// <summary>The cookie's claim naming the token actor an OpenID Connect session is held by (a key's session names its key instead).</summary>
    public const string TokenHolderClaim = "esr:console-token-holder";

    /// <summary>
    /// The cookie's principal of an OpenID Connect sign-in: the token's actor and the server's session row only. The
    /// tokens themselves stay out of the cookie; the row keeps the access token's claims, read again at every request.
    /// </summary>
    public static ClaimsPrincipal SessionOfToken(string actor, string session)
    {
        var identity = new ClaimsIdentity(Scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(TokenHolderClaim, actor));
        identity.AddClaim(new Claim(ConsoleSessions.Claim, session));
        identity.AddClaim(new Claim(ClaimTypes.Name, actor));
        identity.AddClaim(new Claim(AccessClaims.Actor, actor));
        return new ClaimsPrincipal(identity);
    }

    /// <summary>Who holds a signed-in console principal's sessions: its key's id, or its token's actor.</summary>
    public static string? HolderOf(ClaimsPrincipal user) =>
        user.FindFirst(TokenHolderClaim)?.Value ?? (user.Identity?.AuthenticationType == ApiKeyAuthenticationHandler.SchemeName ? user.FindFirst(AccessClaims.KeyId)?.Value : null);

    /// <summary>
    /// The cookie's principal: the key's id and actor and the server's session row (<see cref="ConsoleSessions"/>) only;
    /// the grants are read again at every request.
    /// </summary>
    public static ClaimsPrincipal SessionOf(ApiKeyRecord key, string session)
    {
        var identity = new ClaimsIdentity(Scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(AccessClaims.KeyId, key.Id));
        identity.AddClaim(new Claim(ConsoleSessions.Claim, session));
        identity.AddClaim(new Claim(ClaimTypes.Name, key.Name));
        identity.AddClaim(new Claim(AccessClaims.Actor, key.Actor));
        return new ClaimsPrincipal(identity);
    }

    private static async Task Validate(CookieValidatePrincipalContext context)
    {
        var http = context.HttpContext;
        var session = context.Principal?.FindFirst(ConsoleSessions.Claim)?.Value;
        var principal = session is null ? null
            : context.Principal!.FindFirst(TokenHolderClaim)?.Value is { } holder ? await TokenPrincipal(http, session, holder)
            : await KeyPrincipal(http, session, context.Principal!.FindFirst(AccessClaims.KeyId)?.Value);
        if (principal is null)
        {
            context.RejectPrincipal();
            await http.SignOutAsync(Scheme);
            return;
        }
        // The session row's id stays with the principal: sign-out ends that row, and a renewed cookie (sliding expiry
        // writes the replaced principal) still names it.
        var identity = (ClaimsIdentity)principal.Identity!;
        identity.AddClaim(new Claim(ConsoleSessions.Claim, session!));
        // Antiforgery binds a form's token to the user's unique id, else to a hash of all its claims, which differ per
        // workspace (grants, memberships): a sign-out form rendered in a workspace other than default was refused (400) at
        // /console/signout, which has none. The session is that id, the same on every page of it.
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, "console-session:" + session));
        context.ReplacePrincipal(principal);
    }

    private static async Task<ClaimsPrincipal?> KeyPrincipal(HttpContext http, string session, string? keyId)
    {
        var key = keyId is null ? null : await http.RequestServices.GetRequiredService<ApiKeys>().Find(keyId, http.RequestAborted);
        // A signed-out session is refused whatever copy of its cookie comes back.
        if (key is not { Active: true } || await http.RequestServices.GetRequiredService<ConsoleSessions>().TouchAsync(session, key.Id, http.RequestAborted) is null)
            return null;
        // The API's own principal of the key, for this request's workspace, named as the API key scheme names it: the
        // caller (idempotency, rate limits) and the actor are the key's, as when it calls the API.
        return ApiKeys.PrincipalOf(key, ApiKeyAuthenticationHandler.SchemeName, http.Workspace());
    }

    /// <summary>
    /// An OpenID Connect session: the access token's claims kept by its row, made into the caller the API makes of that
    /// token as a bearer token (<see cref="TokenPrincipals"/>), for this request's workspace. Refused once the row ended,
    /// went idle or its token expired.
    /// </summary>
    private static async Task<ClaimsPrincipal?> TokenPrincipal(HttpContext http, string session, string holder)
    {
        var open = await http.RequestServices.GetRequiredService<ConsoleSessions>().TouchAsync(session, holder, http.RequestAborted);
        var tokens = http.RequestServices.GetRequiredService<TokenPrincipals>();
        if (open?.TokenClaims is not { } json) return null;
        var claims = System.Text.Json.JsonSerializer.Deserialize<string[][]>(json)!.Select(c => new Claim(c[0], c[1]));
        var (principal, _) = tokens.Build(claims, Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerDefaults.AuthenticationScheme,
            ClaimsIdentity.DefaultNameClaimType, ClaimsIdentity.DefaultRoleClaimType, http.Workspace());
        // The same token named the same actor at sign-in; anything else is not this session's.
        if (principal is null || AccessClaims.ActorOf(principal) != holder) return null;
        // Kept for the cookie a sliding renewal writes from this principal.
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(TokenHolderClaim, holder));
        return principal;
    }
}
