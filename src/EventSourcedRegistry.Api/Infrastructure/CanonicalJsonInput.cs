using System.Buffers;
using EventSourcedRegistry.Audit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

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
/// The one door every JSON request body passes, whichever endpoint (or future protocol adapter) reads it: a body
/// over <see cref="InputOptions.MaxJsonBodyBytes"/> is 413, a body the hash chain or the store cannot keep exactly
/// (<see cref="CanonicalInput"/>) is 400 naming the field, and a body sent in another charset than UTF-8 is 415.
/// Runs after authorization, so no caller without a role gets its body read. Nothing is appended for a refusal:
/// the endpoint never runs.
/// </summary>
public sealed class CanonicalJsonInput(RequestDelegate next, InputOptions options)
{
    private const int ChunkBytes = 16 * 1024;

    public async Task InvokeAsync(HttpContext http)
    {
        var request = http.Request;
        if (http.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false }
            || !request.HasJsonContentType()
            || http.GetEndpoint()?.Metadata.GetMetadata<OpaqueBodyAttribute>() is not null)
        {
            await next(http);
            return;
        }

        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            && mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !mediaType.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            await Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported charset",
                $"JSON is accepted in UTF-8 only, not in {mediaType.Charset}; send Content-Type: application/json.").ExecuteAsync(http);
            return;
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
        await next(http);
    }

    private static Task TooLarge(HttpContext http, int max) =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Request too large",
            $"A JSON request body is limited to {max} bytes ({InputOptions.Section}:MaxJsonBodyBytes); nothing was changed.").ExecuteAsync(http);
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

    /// <summary>After authorization (the caller is known and allowed) and before any endpoint reads a body.</summary>
    public static IApplicationBuilder UseCanonicalJsonInput(this IApplicationBuilder app) => app.UseMiddleware<CanonicalJsonInput>();
}
