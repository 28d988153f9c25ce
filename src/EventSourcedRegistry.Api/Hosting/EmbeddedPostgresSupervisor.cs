using System.Diagnostics;
using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventSourcedRegistry.Api.Hosting;

/// <summary>
/// Watches the embedded PostgreSQL and brings it back when its postmaster dies (killed, OOM, crashed): the server is
/// restarted on the same data directory and port, or adopted when another app instance on that directory restarted it
/// first, and PostgreSQL's crash recovery replays every committed transaction. Meanwhile readiness is red and says why;
/// the connection pools are cleared so no request is handed a connection to the dead server. An external PostgreSQL
/// (<c>ConnectionStrings:Registry</c>) is someone else's to run, and is not watched.
/// </summary>
/// <remarks>
/// Written by hand because neither Marten nor Npgsql runs a server: they reconnect to one that is back (the async
/// daemon resumes from its stored progress), which is the half this class does not need to do.
/// </remarks>
public sealed class EmbeddedPostgresSupervisor(EmbeddedPostgres postgres, IServiceProvider services, ILogger<EmbeddedPostgresSupervisor> logger)
    : BackgroundService, IHealthCheck
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    // Null while the server runs; otherwise what readiness reports.
    private volatile string? _outage;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(_outage is { } outage ? HealthCheckResult.Unhealthy(outage) : HealthCheckResult.Healthy());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, stoppingToken);
                if (!postgres.IsRunning) await RecoverAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task RecoverAsync(CancellationToken ct)
    {
        var lost = postgres.ServerProcessId;
        var since = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        _outage = $"The embedded PostgreSQL (postmaster PID {lost}) stopped at {since:O}; restarting it.";
        logger.LogError(
            "The embedded PostgreSQL's postmaster (PID {Pid}) is gone; restarting it on port {Port} (crash recovery replays its write-ahead log)",
            lost, postgres.Port);
        ClearPools();

        var delay = PollInterval;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var recovery = await postgres.EnsureRunningAsync(ct);
                // Connections opened while the server came back may have been refused mid-handshake; start clean.
                ClearPools();
                _outage = null;
                if (recovery is null)
                    logger.LogWarning("The embedded PostgreSQL (PID {Pid}) answers again; it was not restarted", postgres.ServerProcessId);
                else
                    logger.LogWarning(
                        "The embedded PostgreSQL is back after {Seconds:F1} s: {How} postmaster PID {Pid} on port {Port} (attempt {Attempt})",
                        clock.Elapsed.TotalSeconds, recovery.Adopted ? "adopted another app instance's" : "started", recovery.Pid, postgres.Port, attempt);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Typical: the dead server's backends still hold its shared memory for a moment, or the port is taken.
                _outage = $"The embedded PostgreSQL (postmaster PID {lost}) stopped at {since:O}; restarting it failed {attempt} time(s), last: {FirstLine(e.Message)}";
                logger.LogWarning(e, "Restarting the embedded PostgreSQL failed (attempt {Attempt}); retrying in {Delay}", attempt, delay);
            }

            await Task.Delay(delay, ct);
            delay = delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2;
        }
    }

    // Idle pooled connections point at backends of the dead server: without this, the first use of each fails.
    private void ClearPools()
    {
        NpgsqlConnection.ClearAllPools();
        services.GetRequiredService<NpgsqlDataSource>().Clear();
        services.GetRequiredService<Models.Listing.TagListing>().Data.Clear();
        if (services.GetRequiredService<IDocumentStore>().Storage.Database is Weasel.Postgresql.PostgresqlDatabase marten)
            marten.DataSource.Clear();
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}

public static class EmbeddedPostgresSupervision
{
    /// <summary>With the embedded default: the supervisor, and its outage in readiness.</summary>
    public static IServiceCollection AddEmbeddedPostgresSupervisor(this IServiceCollection services, RegistryDatabase database)
    {
        if (database.Embedded is not { } postgres) return services;
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<EmbeddedPostgresSupervisor>(sp, postgres));
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedPostgresSupervisor>());
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            "embedded-postgresql", sp => sp.GetRequiredService<EmbeddedPostgresSupervisor>(), HealthStatus.Unhealthy, ["ready"]));
        return services;
    }
}
