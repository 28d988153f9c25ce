using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.Extensions.Options;

namespace EventSourcedRegistry.Api.Access;

/// <summary>
/// Authenticates <c>Authorization: ApiKey &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c>; on MLflow's routes also the
/// key as a Bearer token or a Basic password (see <see cref="Mlflow.MlflowCredentials"/>).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, ApiKeys keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentedKey(Request) is not { } presented) return AuthenticateResult.NoResult();
        var key = await keys.Authenticate(presented, Context.RequestAborted);
        return key is null
            ? AuthenticateResult.Fail("The API key is unknown or revoked.")
            : AuthenticateResult.Success(new AuthenticationTicket(ApiKeys.PrincipalOf(key, SchemeName, Context.Workspace()), SchemeName));
    }

    public static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase))
            return authorization[(SchemeName.Length + 1)..].Trim() is { Length: > 0 } key ? key : null;
        if (request.Headers[Header].ToString() is { Length: > 0 } header) return header.Trim();
        return Mlflow.MlflowRoutes.IsMlflow(request.Path) ? Mlflow.MlflowCredentials.PresentedKey(authorization) : null;
    }
}
