using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Http.Features;

namespace EventSourcedRegistry.Api.Mlflow;

/// <summary>
/// Where MLflow's registry protocol is served. The client appends <c>/api/2.0/mlflow/…</c> (or, from MLflow's web UI,
/// <c>/ajax-api/2.0/mlflow/…</c>) to the tracking URI's path, so a tracking URI of <c>https://host</c> addresses the
/// <c>default</c> workspace and <c>https://host/api/v1/workspaces/{ws}</c> addresses workspace <c>ws</c>: the workspace
/// prefix works for MLflow exactly as for <c>/api/v1</c> (see <see cref="WorkspaceAddressing"/>). Both mounts are one
/// set of endpoints under <see cref="Prefix"/>.
/// </summary>
public static class MlflowRoutes
{
    public const string Prefix = "/api/2.0/mlflow";
    private const string AjaxPrefix = "/ajax-api/2.0/mlflow";
    /// <summary>MLflow's artifact proxy (<see cref="MlflowArtifactsEndpoints"/>), which an <c>mlflow-artifacts:</c> URI names.</summary>
    public const string ArtifactsPrefix = "/api/2.0/mlflow-artifacts";
    private const string AjaxArtifactsPrefix = "/ajax-api/2.0/mlflow-artifacts";

    /// <summary>The path an MLflow path is served under (<c>/ajax-api/…</c> → <c>/api/…</c>), or null for any other path.</summary>
    public static string? Canonical(string path)
    {
        if (path.StartsWith(Prefix + "/", StringComparison.Ordinal) || path.StartsWith(ArtifactsPrefix + "/", StringComparison.Ordinal)) return path;
        if (path.StartsWith(AjaxPrefix + "/", StringComparison.Ordinal)) return Prefix + path[AjaxPrefix.Length..];
        if (path.StartsWith(AjaxArtifactsPrefix + "/", StringComparison.Ordinal)) return ArtifactsPrefix + path[AjaxArtifactsPrefix.Length..];
        return null;
    }

    /// <summary>Whether a request (as sent, or after addressing) is one of MLflow's: its refusals then speak MLflow.</summary>
    public static bool IsMlflow(PathString path)
    {
        var value = path.Value ?? "";
        if (Canonical(value) is not null) return true;
        return WorkspaceAddressing.TryStrip(path, out _, out _, out var rest) && Canonical(rest) is not null;
    }
}

/// <summary>
/// Every refusal on an MLflow path in MLflow's words. The endpoints answer <c>{"error_code","message"}</c> themselves;
/// the doors in front of them (authentication 401/403, the input doors 400/413/415, rate limits 429, an archived
/// workspace 409, faults 500) answer ProblemDetails, which this middleware rewrites into MLflow's shape with the code
/// for its status (<see cref="MlflowErrors.CodeOf"/>), so the client's error handling sees what it expects. A 404 that
/// no endpoint wrote — an unknown route, and a workspace the caller is not a member of, which must look the same —
/// becomes the reference server's HTML 404, from which the client derives <c>ENDPOINT_NOT_FOUND</c>.
/// Holds back only refusals (small documents); a success streams straight through (see <see cref="SuccessPassThrough"/>).
/// </summary>
public sealed class MlflowErrorShape(RequestDelegate next)
{
    public const string NotFoundPage =
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. " +
        "If you entered the URL manually please check your spelling and try again.</p>\n";

    /// <summary>The reference server's answer to a method a path does not take (its web framework's 405 page).</summary>
    public const string MethodNotAllowedPage =
        "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n" +
        "<p>The method is not allowed for the requested URL.</p>\n";

    public const string HowToAuthenticate =
        "The MLflow client sends a registry API key as MLFLOW_TRACKING_TOKEN (Authorization: Bearer), or as MLFLOW_TRACKING_PASSWORD " +
        "with any MLFLOW_TRACKING_USERNAME (Authorization: Basic).";

    public async Task InvokeAsync(HttpContext http)
    {
        if (!MlflowRoutes.IsMlflow(http.Request.Path))
        {
            await next(http);
            return;
        }

        var original = http.Response.Body;
        await using var buffer = new MemoryStream();
        // A success streams straight through (an artifact download may be gigabytes); a refusal is held until the end:
        // nothing of it may be flushed to the client before it is looked at.
        var body = new SuccessPassThrough(http.Response, original, buffer);
        http.Response.Body = body;
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await next(http);
        }
        finally
        {
            http.Response.Body = original;
        }
        if (body.PassedThrough) return;

        var status = http.Response.StatusCode;
        var contentType = http.Response.ContentType ?? "";
        var isMlflowAnswer = contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);
        if (status < 400 || isMlflowAnswer)
        {
            buffer.Position = 0;
            await buffer.CopyToAsync(original, http.RequestAborted);
            return;
        }

        // A wrong method kept its 405 (the reference server's page), where the code for its status made it a 500 fault.
        if (status is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)
        {
            var page = Encoding.UTF8.GetBytes(status == StatusCodes.Status404NotFound ? NotFoundPage : MethodNotAllowedPage);
            http.Response.ContentType = "text/html; charset=utf-8";
            http.Response.ContentLength = page.Length;
            await original.WriteAsync(page, http.RequestAborted);
            return;
        }

        var message = DetailOf(buffer) ?? (Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase + "." : "Refused.");
        if (status == StatusCodes.Status401Unauthorized) message += " " + HowToAuthenticate;
        var code = MlflowErrors.CodeOf(status);
        var json = JsonSerializer.SerializeToUtf8Bytes(new MlflowError(code, message), MlflowJson.Options);
        http.Response.StatusCode = MlflowErrors.StatusOf(code);
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = json.Length;
        await original.WriteAsync(json, http.RequestAborted);
    }

    private static string? DetailOf(MemoryStream buffer)
    {
        if (buffer.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray());
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("detail", out var detail)
                   && detail.ValueKind == JsonValueKind.String
                ? detail.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The response body while <see cref="MlflowErrorShape"/> decides: at the first write, a status under 400 sends everything
/// straight to the client; any other status is held in the buffer for rewriting.
/// </summary>
internal sealed class SuccessPassThrough(HttpResponse response, Stream original, MemoryStream buffer) : Stream
{
    private Stream? _target;

    public bool PassedThrough => _target == original;

    private Stream Target => _target ??= response.StatusCode < 400 ? original : buffer;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => _target?.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _target?.FlushAsync(cancellationToken) ?? Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] bytes, int offset, int count) => Target.Write(bytes, offset, count);
    public override Task WriteAsync(byte[] bytes, int offset, int count, CancellationToken cancellationToken) =>
        Target.WriteAsync(bytes, offset, count, cancellationToken);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        Target.WriteAsync(bytes, cancellationToken);
}
