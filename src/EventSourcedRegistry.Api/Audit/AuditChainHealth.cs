using EventSourcedRegistry.Audit;
using Marten;
using Marten.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventSourcedRegistry.Api.Audit;

/// <summary>
/// Whether every workspace's hash chain (the platform's included) keeps up with its events. Degraded when one is
/// stopped at an event it cannot hash, or when the oldest event it has not chained was stored more than
/// <c>Registry:Audit:StallAfter</c> ago (the async daemon is not running it, or it fails). Read from the database, so
/// every node answers the same wherever the daemon runs. <c>/health/ready</c> shows it as <c>Degraded</c> (still 200:
/// the API serves on); <c>/health/audit</c> answers 503.
/// The answer is anonymous, so it names no workspace and gives no workspace's sequence or count: how many chains
/// are stalled, nothing else. Which ones, and why, is logged and answered by the operator's verify.
/// </summary>
public sealed class AuditChainHealthCheck(IDocumentStore store, AuditOptions options, ILogger<AuditChainHealthCheck> logger) : IHealthCheck
{
    public const string Name = "audit-chain";
    public const string Tag = "audit";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var workspaces = await AuditWorkspaces.AllAsync(store, ct);
            await using var connection = store.Storage.Database.CreateConnection(ConnectionUsage.Read);
            await connection.OpenAsync(ct);
            int stalled = 0, catchingUp = 0;
            foreach (var workspace in workspaces)
            {
                var head = await ChainVerifier.ChainHeadAsync(connection, workspace, ct);
                var unchained = await ChainVerifier.FirstUnchainedAsync(connection, workspace, head, ct);
                if (unchained is null) continue;
                if (unchained.BlockedAt is not null)
                {
                    stalled++;
                    logger.LogWarning("The hash chain of workspace {Workspace} is stalled. {Why}", workspace, unchained.Describe(head));
                }
                else if (unchained.Age > options.StallAfter)
                {
                    stalled++;
                    logger.LogWarning("The hash chain of workspace {Workspace} is stalled: event {Sequence} was stored {Age:0} s ago and is not chained yet " +
                                      "(the chain ends at {Head}); is the async daemon running?", workspace, unchained.Sequence, unchained.Age.TotalSeconds, head);
                }
                else catchingUp++;
            }
            if (stalled > 0)
                return HealthCheckResult.Degraded(stalled == 1
                    ? "A workspace's hash chain is stalled: an event waits to be chained longer than allowed, or cannot be chained (see the log)."
                    : "Several workspaces' hash chains are stalled: events wait to be chained longer than allowed, or cannot be chained (see the log).");
            return catchingUp > 0
                ? HealthCheckResult.Healthy("The hash chains are catching up with the newest events.")
                : HealthCheckResult.Healthy("Every workspace's hash chain covers every stored event.");
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // PostgreSQL's own check reports the outage; this one only says the chain's progress is unknown.
            return HealthCheckResult.Degraded("The hash chains' progress could not be read.", ex);
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
