using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Unicode;
using EventSourcedRegistry.Audit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary><c>Registry:Input</c>: the bound on a JSON request body.</summary>
public sealed class InputOptions
{
    public const string Section = "Registry:Input";

    /// <summary>Largest JSON request body in bytes (a version with 256 KiB of metadata fits several times over).</summary>
    public int MaxJsonBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Marks an endpoint whose body is opaque bytes (an artifact), never read as JSON, so the JSON check leaves it alone.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OpaqueBodyAttribute : Attribute;

/// <summary>
/// The door every request's text passes first, whichever endpoint (or future protocol adapter) reads it: a query or
/// route value, or a header the registry stores or looks up, that PostgreSQL cannot keep as text
/// (<see cref="CanonicalInput.TextProblem"/>: NUL, an unpaired surrogate), a query value percent-encoding bytes that
/// are not UTF-8, or an <c>X-Correlation-Id</c> or <c>Idempotency-Key</c> (both stored with the events) holding a
/// control character, is 400 naming the parameter. Other headers are parsed strictly where they are read
/// (<c>If-Match</c>, <c>traceparent</c>) or only echoed without control characters (an upload's file name).
/// Runs before authentication, so neither the API-key lookup nor a per-model grant check queries the database with it;
/// it reads nothing but the request line and headers. Kestrel refuses some of these (NUL in a path or header) before
/// the app; the test host and other servers do not, so the door does not rely on it.
/// </summary>
public sealed class CanonicalRequestText(RequestDelegate next)
{
    /// <summary>Headers whose values are stored: with the events (correlation) or as the idempotency record's key.</summary>
    private static readonly string[] StoredHeaders = [CommandContext.CorrelationHeader, Idempotent.Header];

    /// <summary>Headers whose values the registry looks up in the database (an API key's id).</summary>
    private static readonly string[] LookedUpHeaders = [HeaderNames.Authorization, Access.ApiKeyAuthenticationHandler.Header];

    public async Task InvokeAsync(HttpContext http)
    {
        if (Problem(http.Request) is var (field, error))
        {
            await Problems.Validation([(field, error)]).ExecuteAsync(http);
            return;
        }
        await next(http);
    }

    /// <summary>The first value of <paramref name="request"/> the registry cannot keep, or null.</summary>
    public static (string Field, string Error)? Problem(HttpRequest request)
    {
        foreach (var (name, value) in request.RouteValues)
            if (value is string text && CanonicalInput.TextProblem(text) is { } why)
                return (name, $"The path parameter '{name}' {why}.");

        foreach (var (name, values) in request.Query)
        {
            if (CanonicalInput.TextProblem(name) is { } whyName)
                return (Shown(name), $"A query parameter's name {whyName}.");
            foreach (var value in values)
                if (value is not null && CanonicalInput.TextProblem(value) is { } why)
                    return (name, $"The query parameter '{name}' {why}.");
        }
        if (NotUtf8Parameter(request.QueryString.Value) is { } notUtf8)
            return (notUtf8, $"The query parameter '{notUtf8}' percent-encodes bytes that are not UTF-8; encode text as UTF-8.");

        foreach (var name in StoredHeaders.Concat(LookedUpHeaders))
        {
            var stored = StoredHeaders.Contains(name);
            foreach (var value in request.Headers[name])
            {
                if (value is null) continue;
                if (CanonicalInput.TextProblem(value) is { } why)
                    return (name, $"The header '{name}' {why}.");
                if (stored && value.Any(char.IsControl))
                    return (name, $"The header '{name}' holds a control character; it is recorded with the events, so send printable text.");
            }
        }
        return null;
    }

    /// <summary>
    /// The name of the first parameter whose percent-encoded bytes are not UTF-8 (<c>%FF</c>, <c>%ED%A0%80</c>):
    /// ASP.NET Core leaves such a sequence undecoded, so the endpoint would read the escape as literal text.
    /// </summary>
    private static string? NotUtf8Parameter(string? query)
    {
        if (string.IsNullOrEmpty(query) || !query.Contains('%')) return null;
        foreach (var pair in query.TrimStart('?').Split('&'))
        {
            if (!pair.Contains('%')) continue;
            var raw = Encoding.UTF8.GetBytes(pair);
            if (Utf8.IsValid(WebUtility.UrlDecodeToBytes(raw, 0, raw.Length))) continue;
            var name = pair.Split('=', 2)[0];
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var decoded = WebUtility.UrlDecodeToBytes(nameBytes, 0, nameBytes.Length);
            return Utf8.IsValid(decoded) ? Shown(Encoding.UTF8.GetString(decoded)) : name;
        }
        return null;
    }

    private static string Shown(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}

/// <summary>
/// The one door every request body passes, whichever endpoint (or future protocol adapter) reads it, whatever its
/// Content-Type says: Wolverine binds a body as JSON when the header is missing (and for some types that are not
/// <c>application/json</c>), so the door does not trust the header to say which bodies are JSON. Every body sent to an
/// endpoint not marked <see cref="OpaqueBodyAttribute"/> is JSON: without a Content-Type it is checked as JSON, with
/// one that is not JSON (<c>application/json</c> or <c>*/*+json</c>) or names a charset other than UTF-8 it is 415.
/// A body over <see cref="InputOptions.MaxJsonBodyBytes"/> is 413, a body the hash chain or the store cannot keep
/// exactly (<see cref="CanonicalInput"/>) is 400 naming the field. Runs after authorization, so no caller without a
/// role gets its body read. Nothing is appended for a refusal: the endpoint never runs. A request that passed is marked
/// (<see cref="CheckedJsonBody"/>), and every endpoint but an opaque one refuses to run without the mark
/// (<see cref="CheckedJsonBodyGuard"/>).
/// </summary>
public sealed class CanonicalJsonInput(RequestDelegate next, InputOptions options)
{
    private const int ChunkBytes = 16 * 1024;

    public async Task InvokeAsync(HttpContext http)
    {
        var request = http.Request;
        // The console's forms are form posts its own pages read (antiforgery-checked); no API endpoint receives them.
        if (http.GetEndpoint()?.Metadata.GetMetadata<OpaqueBodyAttribute>() is not null || WebConsole.ConsoleConfiguration.IsConsole(request.Path))
        {
            await next(http);
            return;
        }
        if (http.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false } || request.ContentLength == 0)
        {
            CheckedJsonBody.Mark(http);
            await next(http);
            return;
        }

        if (!string.IsNullOrEmpty(request.ContentType))
        {
            if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) || !IsJson(mediaType))
            {
                await Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                    $"Request bodies are JSON: send Content-Type: application/json, not '{Shown(request.ContentType)}'.").ExecuteAsync(http);
                return;
            }
            if (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
                && !mediaType.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                await Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported charset",
                    $"JSON is accepted in UTF-8 only, not in {mediaType.Charset}; send Content-Type: application/json.").ExecuteAsync(http);
                return;
            }
        }

        var max = options.MaxJsonBodyBytes;
        if (request.ContentLength > max)
        {
            await TooLarge(http, max);
            return;
        }

        var body = new MemoryStream();
        http.Response.RegisterForDispose(body);
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk.AsMemory(0, ChunkBytes), http.RequestAborted)) > 0)
            {
                if (body.Length + read > max)
                {
                    await TooLarge(http, max);
                    return;
                }
                body.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        if (body.Length > 0 && CanonicalInput.Check(body.GetBuffer().AsSpan(0, (int)body.Length)) is { } problem)
        {
            await Problems.Validation([(problem.Field, problem.Detail)]).ExecuteAsync(http);
            return;
        }

        body.Position = 0;
        request.Body = body;
        CheckedJsonBody.Mark(http);
        await next(http);
    }

    /// <summary><c>application/json</c> or a structured <c>+json</c> type (RFC 6839), as ASP.NET Core's own check.</summary>
    private static bool IsJson(MediaTypeHeaderValue mediaType) =>
        mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || mediaType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);

    private static string Shown(string text)
    {
        var clipped = text.Length > 60 ? text[..60] + "…" : text;
        return string.Concat(clipped.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    private static Task TooLarge(HttpContext http, int max) =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Request too large",
            $"A JSON request body is limited to {max} bytes ({InputOptions.Section}:MaxJsonBodyBytes); nothing was changed.").ExecuteAsync(http);
}

/// <summary>The door's mark on a request whose body it checked, or that has none.</summary>
public sealed class CheckedJsonBody
{
    private static readonly CheckedJsonBody Instance = new();

    private CheckedJsonBody()
    {
    }

    public static void Mark(HttpContext http) => http.Features.Set(Instance);

    public static bool IsMarked(HttpContext http) => http.Features.Get<CheckedJsonBody>() is not null;
}

/// <summary>
/// Wolverine middleware on every endpoint but an opaque one: it refuses to run without the door's mark, so a
/// pipeline that lets a request reach an endpoint around the door (a reordered middleware, a branch) fails as a fault
/// of ours (500, logged) and never binds an unchecked body.
/// </summary>
public static class CheckedJsonBodyGuard
{
    public static void Before(HttpContext http)
    {
        if (!CheckedJsonBody.IsMarked(http))
            throw new InvalidOperationException(
                $"{http.Request.Method} {http.Request.Path} reached an endpoint without passing the JSON door; " +
                "UseCanonicalJsonInput must run before the endpoints.");
    }
}

public static class CanonicalJsonInputConfiguration
{
    public static WebApplicationBuilder AddCanonicalJsonInput(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(InputOptions.Section).Get<InputOptions>() ?? new InputOptions();
        if (options.MaxJsonBodyBytes < 1024)
            throw new InvalidOperationException($"{InputOptions.Section}:MaxJsonBodyBytes must be at least 1024 bytes.");
        builder.Services.AddSingleton(options);
        return builder;
    }

    /// <summary>Before authentication: the request line and headers only, so no credential or grant check reads such a value.</summary>
    public static IApplicationBuilder UseCanonicalRequestText(this IApplicationBuilder app) => app.UseMiddleware<CanonicalRequestText>();

    /// <summary>After authorization (the caller is known and allowed) and before any endpoint reads a body.</summary>
    public static IApplicationBuilder UseCanonicalJsonInput(this IApplicationBuilder app) => app.UseMiddleware<CanonicalJsonInput>();

    /// <summary>Every Wolverine endpoint but an opaque one checks the door's mark before it binds anything.</summary>
    public static void RequireCheckedJsonBodies(this WolverineHttpOptions options) =>
        options.AddMiddleware(typeof(CheckedJsonBodyGuard), chain => !IsOpaque(chain));

    public static bool IsOpaque(HttpChain chain) => chain.Method.Method.GetCustomAttributes(typeof(OpaqueBodyAttribute), false).Length > 0;
}
