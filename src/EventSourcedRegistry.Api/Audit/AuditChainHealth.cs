using EventSourcedRegistry.Audit;
using Marten;
using Marten.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventSourcedRegistry.Api.Audit;

/// <summary>
/// Whether the hash chain keeps up with the store. Degraded when it is stopped at an event it cannot hash, or when
/// the oldest event it has not chained was stored more than <c>Registry:Audit:StallAfter</c> ago (the async daemon
/// is not running it, or it fails). Read from the database, so every node answers the same wherever the daemon runs.
/// <c>/health/ready</c> shows it as <c>Degraded</c> (still 200: the API serves on); <c>/health/audit</c> answers 503.
/// </summary>
public sealed class AuditChainHealthCheck(IDocumentStore store, AuditOptions options) : IHealthCheck
{
    public const string Name = "audit-chain";
    public const string Tag = "audit";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var connection = store.Storage.Database.CreateConnection(ConnectionUsage.Read);
            await connection.OpenAsync(ct);
            var head = await ChainVerifier.ChainHeadAsync(connection, ct);
            var unchained = await ChainVerifier.FirstUnchainedAsync(connection, head, ct);
            if (unchained is null) return HealthCheckResult.Healthy($"The hash chain covers every stored event (through sequence {head}).");
            if (unchained.BlockedAt is not null) return HealthCheckResult.Degraded("The hash chain is stalled. " + unchained.Describe(head));
            if (unchained.Age > options.StallAfter)
                return HealthCheckResult.Degraded($"The hash chain is stalled: event {unchained.Sequence} was stored {unchained.Age.TotalSeconds:0} s ago " +
                                                  $"and is not chained yet (the chain ends at {head}); is the async daemon running?");
            return HealthCheckResult.Healthy($"The hash chain is catching up: it ends at {head}, event {unchained.Sequence} is next.");
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // PostgreSQL's own check reports the outage; this one only says the chain's progress is unknown.
            return HealthCheckResult.Degraded("The hash chain's progress could not be read.", ex);
        }
    }
}

public static class AuditChainHealth
{
    public const string Path = "/health/audit";

    /// <summary><c>/health/audit</c>: 200 while the chain keeps up, 503 when it is stalled.</summary>
    public static WebApplication MapAuditHealth(this WebApplication app)
    {
        app.MapHealthChecks(Path, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(AuditChainHealthCheck.Tag),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).AllowAnonymous();
        return app;
    }
}
