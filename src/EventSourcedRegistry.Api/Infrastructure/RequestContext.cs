using System.Diagnostics;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>Who and what caused a command: recorded as metadata on every event it appends.</summary>
public sealed record CommandContext(string Actor, string CorrelationId, string CausationId, string? Reason)
{
    public const string CorrelationHeader = "X-Correlation-Id";

    /// <summary>
    /// The actor is the authenticated principal (<c>key:&lt;name&gt;</c>, <c>jwt:&lt;sub&gt;</c>); nothing else the
    /// client sends can change it. Correlation comes from X-Correlation-Id, else from the W3C traceparent's trace id.
    /// </summary>
    public static CommandContext For(HttpContext http, string? reason)
    {
        var correlation = CorrelationOf(http);
        http.Response.Headers[CorrelationHeader] = correlation;
        var actor = Access.AccessClaims.ActorOf(http.User)
                    ?? throw new InvalidOperationException($"{http.Request.Method} {http.Request.Path} ran a command without an authenticated caller; every command endpoint needs a policy.");
        return new CommandContext(actor, correlation, http.TraceIdentifier, string.IsNullOrWhiteSpace(reason) ? null : reason);
    }

    /// <summary>
    /// The request's correlation id: its X-Correlation-Id, else its traceparent's trace id, else its own trace's. Derived
    /// once per request (kept in its items), so the telemetry and the events of one request carry the same one.
    /// </summary>
    public static string CorrelationOf(HttpContext http)
    {
        if (http.Items[CorrelationItem] is string known) return known;
        var correlation = http.Request.Headers[CorrelationHeader].ToString();
        if (string.IsNullOrWhiteSpace(correlation) || correlation.Length > 200)
        {
            correlation = TraceIdOf(http.Request.Headers["traceparent"].ToString())
                          ?? Activity.Current?.TraceId.ToHexString()
                          ?? Guid.NewGuid().ToString("N");
        }
        http.Items[CorrelationItem] = correlation;
        return correlation;
    }

    private static readonly object CorrelationItem = new();

    private static string? TraceIdOf(string traceparent)
    {
        // version "-" trace-id (32 hex) "-" parent-id (16 hex) "-" flags
        var parts = traceparent.Split('-');
        return parts.Length == 4 && parts[1].Length == 32 && parts[1].All(char.IsAsciiHexDigit) && parts[1] != new string('0', 32)
            ? parts[1].ToLowerInvariant()
            : null;
    }
}

public static class CommandContextExtensions
{
    public const string ReasonHeader = "reason";

    /// <summary>Stamps the session so every event it appends carries actor, correlation, causation and reason.</summary>
    public static void ApplyTo(this CommandContext context, Marten.IDocumentSession session)
    {
        session.LastModifiedBy = context.Actor;
        session.CorrelationId = context.CorrelationId;
        session.CausationId = context.CausationId;
        if (context.Reason is not null) session.SetHeader(ReasonHeader, context.Reason);
    }
}
