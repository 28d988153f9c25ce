using System.Text;
using EventSourcedRegistry.Api.Access;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// How the unchanged MLflow client presents an API key: <c>MLFLOW_TRACKING_TOKEN</c> becomes <c>Authorization: Bearer
/// &lt;key&gt;</c>, <c>MLFLOW_TRACKING_USERNAME</c>/<c>PASSWORD</c> become <c>Basic base64(user:password)</c>. The key is
/// the password; the user name is ignored (the client insists on one, and the key alone names its caller and owner, so
/// a user name could only contradict it, never add to it). Only on MLflow's routes: <c>/api/v1</c> keeps its schemes.
/// With JWT bearer tokens on, a Bearer credential that is an API key (<c>esr_…</c>) is taken as one, any other as a JWT.
/// </summary>
public static class MlflowCredentials
{
    public static string? PresentedKey(string authorization)
    {
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization[7..].Trim() is { Length: > 0 } token ? token : null;
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        var encoded = authorization[6..].Trim();
        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var length)) return null;
        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':');
        return colon >= 0 && decoded[(colon + 1)..] is { Length: > 0 } password ? password : null;
    }

    public static bool IsApiKeyBearer(HttpRequest request) =>
        MlflowRoutes.IsMlflow(request.Path) &&
        request.Headers.Authorization.ToString() is var authorization &&
        authorization.StartsWith("Bearer " + ApiKeys.Prefix, StringComparison.OrdinalIgnoreCase);
}
