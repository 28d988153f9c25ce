using System.Text.Json;
using JasperFx;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// Maps what escapes an endpoint to ProblemDetails: unreadable input is the client's 400, a lost concurrency
/// race that reached here is 409; anything else is a fault (500) and logged.
/// </summary>
public sealed class FaultHandler(IProblemDetailsService problems, ILogger<FaultHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => (400, "Malformed JSON", Describe(json)),
            JsonException json => (400, "Malformed JSON", Describe(json)),
            BadHttpRequestException bad when bad.StatusCode == 413 => (413, "Request too large", bad.Message),
            BadHttpRequestException bad => (400, "Bad request", bad.Message),
            ConcurrencyException => (409, "Concurrent change", "The model changed while this command ran; read it again and retry."),
            _ => (500, "Internal error", "The registry failed to handle the request; the fault is logged."),
        };
        if (status == 500) logger.LogError(exception, "Unhandled fault on {Method} {Path}", http.Request.Method, http.Request.Path);

        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" },
        });
    }

    private static string Describe(JsonException json) =>
        json.Path is { Length: > 0 } path
            ? $"The request body is not valid JSON for this endpoint at {path}: {json.Message.Split(" Path:")[0]}"
            : "The request body is not valid JSON for this endpoint.";
}
