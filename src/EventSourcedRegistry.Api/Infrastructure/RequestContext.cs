using System.Diagnostics;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>Who and what caused a command: recorded as metadata on every event it appends.</summary>
public sealed record CommandContext(string Actor, string CorrelationId, string CausationId, string? Reason)
{
    public const string CorrelationHeader = "X-Correlation-Id";

    /// <summary>
    /// Until authentication exists the actor is the identity the server runs as; nothing the client sends can
    /// change it. Correlation comes from X-Correlation-Id, else from the W3C traceparent's trace id.
    /// </summary>
    public static CommandContext For(HttpContext http, string? reason)
    {
        var correlation = http.Request.Headers[CorrelationHeader].ToString();
        if (string.IsNullOrWhiteSpace(correlation) || correlation.Length > 200)
        {
            correlation = TraceIdOf(http.Request.Headers["traceparent"].ToString())
                          ?? Activity.Current?.TraceId.ToHexString()
                          ?? Guid.NewGuid().ToString("N");
        }
        http.Response.Headers[CorrelationHeader] = correlation;
        return new CommandContext(LocalActor, correlation, http.TraceIdentifier, string.IsNullOrWhiteSpace(reason) ? null : reason);
    }

    public static string LocalActor { get; } = $"local:{Environment.UserName}";

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
