using System.Security.Claims;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// Authentication (API keys always; JWT bearer when <c>Registry:Auth:Jwt</c> names an authority or a signing key),
/// the five policies, and 401/403/404 as ProblemDetails.
/// </summary>
public static class AccessConfiguration
{
    public const string JwtSection = "Registry:Auth:Jwt";
    private const string Selector = "ApiKeyOrBearer";

    public static WebApplicationBuilder AddRegistryAccess(this WebApplicationBuilder builder)
    {
        var jwt = builder.Configuration.GetSection(JwtSection);
        var jwtOn = jwt["Authority"] is { Length: > 0 } || jwt["SigningKey"] is { Length: > 0 };
        if (jwtOn) CheckJwt(jwt);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ApiKeys>();
        builder.Services.AddHostedService<BootstrapAdminKey>();

        var authentication = builder.Services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, "API key or bearer token", options => options.ForwardDefaultSelector = http =>
                // The console's pages know only its session cookie (an API key is exchanged for one at sign-in).
                WebConsole.ConsoleConfiguration.IsConsole(http.Request.Path) ? WebConsole.ConsoleSession.Scheme
                : jwtOn && http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                      && !Mlflow.MlflowCredentials.IsApiKeyBearer(http.Request)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, _ => { });
        if (jwtOn) authentication.AddJwtBearer(options => ConfigureJwt(options, jwt));
        builder.Services.AddSingleton(TokenPrincipals.From(jwt));

        builder.Services.AddAuthorization(options =>
        {
            foreach (var (policy, role) in Policies.RoleOf)
                options.AddPolicy(policy, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(role)));
            // A platform role: held on every request of a platform admin, never implied by a role inside a workspace.
            options.AddPolicy(Policies.PlatformAdmin, p => p.RequireAuthenticatedUser().RequireClaim(AccessClaims.Grant, Roles.PlatformAdmin));
            // An endpoint that names no policy still needs a caller; the route test demands that each names one.
            options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        builder.Services.AddSingleton<IAuthorizationHandler, ModelAccessHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        return builder;
    }

    /// <summary>
    /// Refuses, at startup, a JWT configuration that would accept more than it should: without an audience the registry
    /// would take any token its identity provider (or anyone holding the signing key) made for any other application;
    /// and a role or name claim in the server's own <c>esr:</c> namespace would be dropped with the token's other
    /// <c>esr:</c> claims.
    /// </summary>
    public static void CheckJwt(IConfigurationSection jwt)
    {
        if (jwt["Audience"] is not { Length: > 0 } audience || string.IsNullOrWhiteSpace(audience))
            throw new InvalidOperationException(
                $"{JwtSection}:Audience is required when JWT bearer tokens are on ({JwtSection}:Authority or :SigningKey is set): without it the " +
                "registry would accept any token the identity provider issued for any other application. Set it (env " +
                "Registry__Auth__Jwt__Audience) to the audience (aud) the identity provider writes into tokens meant for the registry.");
        foreach (var setting in new[] { "RoleClaim", "NameClaim" })
            if (jwt[setting] is { Length: > 0 } claim && AccessClaims.IsServerClaim(claim))
                throw new InvalidOperationException(
                    $"{JwtSection}:{setting} is '{claim}', in the registry's own '{AccessClaims.Namespace}' claim namespace, which tokens may not set; name another claim.");
    }

    /// <summary>
    /// Tokens from an authority (OpenID Connect discovery) or, where there is none (tests, air-gapped sites), signed
    /// with <c>SigningKey</c> (HMAC-SHA256, at least 32 bytes; <c>base64:</c> prefix for binary keys).
    /// Roles come from the <c>RoleClaim</c> (default <c>roles</c>; <c>workspace/role</c> for a workspace other than <c>default</c>, <c>platform-admin</c> for the platform), the actor from <c>NameClaim</c> (default <c>sub</c>).
    /// </summary>
    private static void ConfigureJwt(JwtBearerOptions options, IConfigurationSection jwt)
    {
        options.MapInboundClaims = false;
        if (jwt["Authority"] is { Length: > 0 } authority)
        {
            options.Authority = authority;
            options.RequireHttpsMetadata = jwt.GetValue("RequireHttpsMetadata", true);
        }
        options.Audience = jwt["Audience"];
        options.TokenValidationParameters.ValidateAudience = true;
        if (jwt["Issuer"] is { Length: > 0 } issuer) options.TokenValidationParameters.ValidIssuer = issuer;
        else if (jwt["Authority"] is not { Length: > 0 }) options.TokenValidationParameters.ValidateIssuer = false;
        if (jwt["SigningKey"] is { Length: > 0 } signingKey)
        {
            var bytes = signingKey.StartsWith("base64:", StringComparison.Ordinal)
                ? Convert.FromBase64String(signingKey["base64:".Length..])
                : Encoding.UTF8.GetBytes(signingKey);
            if (bytes.Length < 32) throw new InvalidOperationException($"{JwtSection}:SigningKey must be at least 32 bytes.");
            options.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(bytes);
        }

        var tokens = TokenPrincipals.From(jwt);
        options.Events = new JwtBearerEvents
        {
            // The console validates an OpenID Connect sign-in's access token through this handler, as the API would take
            // it as a bearer token (ConsoleOidc); the token is the server's own, never read from the request.
            OnMessageReceived = context =>
            {
                if (context.HttpContext.Items[WebConsole.ConsoleOidc.AccessTokenItem] is string token) context.Token = token;
                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                if (context.Principal?.Identity is not ClaimsIdentity token)
                {
                    context.Fail("The token carries no identity.");
                    return Task.CompletedTask;
                }
                // The esr: namespace is the server's: a token's own esr:actor or esr:grant would otherwise be read as
                // if the server had written it. The principal is rebuilt from the token's other claims.
                var (principal, failure) = tokens.Build(context.Principal.Identities.SelectMany(i => i.Claims),
                    token.AuthenticationType, token.NameClaimType, token.RoleClaimType, context.HttpContext.Workspace());
                if (principal is null) context.Fail(failure!);
                else context.Principal = principal;
                return Task.CompletedTask;
            },
        };
    }

    public static WebApplication UseRegistryAccess(this WebApplication app)
    {
        app.UseAuthentication();
        // Not a member of the request's workspace, or no such workspace: the 404 of an unknown route (issue 20).
        app.UseWorkspaceMembership();
        // Per-caller rate limits need the caller and the workspace's limits, and refuse before authorization reads anything.
        app.UseWorkspaceLimits();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }
}

/// <summary>401, 403 and 404 as ProblemDetails instead of the framework's empty answers.</summary>
public sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _framework = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext http, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        // The console's pages are for browsers: a missing session is the cookie's challenge (to the sign-in form).
        if (WebConsole.ConsoleConfiguration.IsConsole(http.Request.Path))
        {
            await _framework.HandleAsync(next, http, policy, result);
            return;
        }
        if (result.Succeeded)
        {
            await next(http);
            return;
        }

        var (status, title, detail) = result switch
        {
            { Challenged: true } => (401, "Authentication required",
                HasCredentials(http.Request)
                    ? "The credentials are not valid: the API key is unknown or revoked, or the token is invalid or expired."
                    : "This call needs credentials: send `Authorization: ApiKey <key>` (or `X-Api-Key`) or `Authorization: Bearer <token>`."),
            { AuthorizationFailure.FailureReasons: var reasons } when reasons.Any(r => r.Message == ModelAccessHandler.HiddenModel)
                => (404, "Model not found", Problems.NoSuchModel(http.GetRouteValue("name") as string ?? "")),
            _ => (403, "Forbidden", Forbidden(http, policy)),
        };
        if (status == 401) http.Response.Headers.WWWAuthenticate = "ApiKey, Bearer";
        http.Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" },
        });
    }

    /// <summary>The 403's detail: who lacks which role where (the console's admin pages show a refusal in these words).</summary>
    public static string Forbidden(HttpContext http, AuthorizationPolicy policy) =>
        $"{AccessClaims.ActorOf(http.User) ?? "The caller"} lacks the role this call needs ({Needed(policy, http)}).";

    private static bool HasCredentials(HttpRequest request) =>
        request.Headers.Authorization.Count > 0 || request.Headers.ContainsKey(ApiKeyAuthenticationHandler.Header);

    private static string Needed(AuthorizationPolicy policy, HttpContext http) =>
        policy.Requirements.OfType<RoleRequirement>().FirstOrDefault() is { } role
            ? $"{role.Role}, {ModelAccessHandler.WhereGranted(role.Role, http)}"
            : policy.Requirements.OfType<Microsoft.AspNetCore.Authorization.Infrastructure.ClaimsAuthorizationRequirement>()
                .Any(c => c.AllowedValues?.Contains(Roles.PlatformAdmin) == true)
                ? $"{Roles.PlatformAdmin}, a platform role"
                : "an authenticated caller";
}
