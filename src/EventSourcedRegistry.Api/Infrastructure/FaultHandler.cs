using EventSourcedRegistry.Api.Workspaces;
using System.Text.Json;
using EventSourcedRegistry.Store;
using JasperFx;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// Maps what escapes an endpoint to ProblemDetails: a request body the framework could not read is the client's 400,
/// a lost concurrency race that reached here is 409, a database that does not answer (restarting, unreachable) is 503
/// with Retry-After, and so is an append refused because the event sequence fell behind (repaired here, see EventGaps); anything else is a fault (500) and logged. A bare <see cref="JsonException"/> is ours, not the
/// caller's: request bodies are checked by the JSON door and bound by Wolverine, which answers its own 400, so what
/// remains is JSON the registry failed to read from its store or to write into a response.
/// </summary>
public sealed class FaultHandler(IProblemDetailsService problems, ILogger<FaultHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => (400, "Malformed JSON", Describe(json)),
            BadHttpRequestException bad when bad.StatusCode == 413 => (413, "Request too large", bad.Message),
            BadHttpRequestException bad => (400, "Bad request", bad.Message),
            ConcurrencyException => (409, "Concurrent change", "The model changed while this command ran; read it again and retry."),
            _ when EventGaps.IsSequenceCollision(exception) => (503, "Event sequence repaired",
                "The event store's sequence was behind its events after a database restart; nothing was appended and the sequence is repaired. Retry the command."),
            _ when DatabaseUnavailable(exception) => (503, "Database unavailable",
                "The registry's database did not answer; retry shortly. A command retried with the same Idempotency-Key is applied once."),
            _ => (500, "Internal error", "The registry failed to handle the request; the fault is logged."),
        };
        if (EventGaps.IsSequenceCollision(exception))
        {
            try { await EventGaps.RepairSequenceAsync(http.RequestServices.GetRequiredService<Npgsql.NpgsqlDataSource>(), RegistryStore.Schema, http.Workspace(), ct); }
            catch (Exception repair) { logger.LogWarning(repair, "Could not repair the event sequence; the next collision tries again"); }
        }
        if (status == 500) logger.LogError(exception, "Unhandled fault on {Method} {Path}", http.Request.Method, http.Request.Path);
        if (status == 503)
        {
            logger.LogWarning("The database did not answer {Method} {Path}: {Reason}", http.Request.Method, http.Request.Path, exception.Message);
            // Clients (the .NET client, esr) retry a 503 after this; a restarted PostgreSQL is usually back within seconds.
            http.Response.Headers.RetryAfter = "2";
        }

        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" },
        });
    }

    // A lost connection, a server shutting down or starting up (Npgsql marks these transient; Marten reports a
    // session whose connection broke on its own): whether a command in flight committed is unknown, which the
    // Idempotency-Key settles on retry.
    private static bool DatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is Npgsql.NpgsqlException { IsTransient: true } or Marten.Exceptions.SessionTransactionUnusableException)
                return true;
        return false;
    }

    private static string Describe(JsonException json) =>
        json.Path is { Length: > 0 } path
            ? $"The request body is not valid JSON for this endpoint at {path}: {json.Message.Split(" Path:")[0]}"
            : "The request body is not valid JSON for this endpoint.";
}
