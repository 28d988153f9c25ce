using EventSourcedRegistry.Api.Audit.Checkpoints;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Api.Audit;

/// <summary><c>Registry:Audit</c>: where the checkpoint signing key is and how often checkpoints are signed.</summary>
public sealed class AuditOptions
{
    public const string Section = "Registry:Audit";
    public const string DefaultKeyFile = "audit-signing-key.pem";

    /// <summary>A PEM EC P-256 private key; created there (mode 600) if the file does not exist. Default: the data directory.</summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>
    /// How often a checkpoint is signed when the chain has grown, by one node of a cluster; zero or less turns periodic signing
    /// off. Must divide a minute, an hour or a day evenly (it becomes a cron schedule, see <see cref="CheckpointSchedule.CronOf"/>).
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an event may wait to be chained before the audit health check calls the chain stalled.</summary>
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Runs the audit projections and the workspaces' high-water marks on the registry's own worker (<see cref="AuditWorker"/>)
    /// instead of Marten's async daemon, whose per-workspace polls do not scale to many workspaces. On by default; <c>false</c>
    /// runs them on Marten's daemon (HotCold) as before the worker.
    /// </summary>
    public bool Worker { get; set; } = true;

    /// <summary>Reads <see cref="Worker"/> before the services are built (Marten's daemon is registered from it).</summary>
    public static bool WorkerFrom(IConfiguration configuration) => configuration.GetValue($"{Section}:{nameof(Worker)}", true);
}

public static class AuditConfiguration
{
    /// <summary>The checkpoint signing key, the signer used by the endpoint, the periodic signer and the chain's health check.</summary>
    public static WebApplicationBuilder AddAuditCheckpoints(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(AuditOptions.Section).Get<AuditOptions>() ?? new AuditOptions();
        var keyPath = string.IsNullOrWhiteSpace(options.SigningKeyPath)
            ? Path.Combine(RegistryDatabase.DataDirectory(builder.Configuration), AuditOptions.DefaultKeyFile)
            : Path.GetFullPath(options.SigningKeyPath);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(services =>
        {
            var signer = CheckpointSigner.LoadOrCreate(keyPath);
            var logger = services.GetRequiredService<ILogger<AuditCheckpoints>>();
            if (signer.Created) logger.LogInformation("Created the audit signing key {KeyId} in {Path}", signer.KeyId, keyPath);
            else logger.LogInformation("Audit signing key {KeyId} loaded from {Path}", signer.KeyId, keyPath);
            return signer;
        });
        if (options.StallAfter <= TimeSpan.Zero) throw new InvalidOperationException($"{AuditOptions.Section}:StallAfter must be positive.");
        builder.Services.AddSingleton<AuditCheckpoints>();
        // The periodic signing is a Wolverine recurring schedule (see SignAuditCheckpointsHandler), registered with Wolverine.
        builder.Services.AddSingleton<CheckpointSchedule>();
        builder.Services.AddHealthChecks().AddCheck<AuditChainHealthCheck>(AuditChainHealthCheck.Name, tags: ["ready", AuditChainHealthCheck.Tag]);
        // The operator's verify needs the platform-admin policy; access registers it with exactly this definition, so
        // this adds it only when that has not (whichever configuration runs first, the policy is the same).
        builder.Services.Configure<Microsoft.AspNetCore.Authorization.AuthorizationOptions>(authorization =>
        {
            if (authorization.GetPolicy(Policies.PlatformAdmin) is null)
                authorization.AddPolicy(Policies.PlatformAdmin, p => p.RequireClaim("esr:grant", Roles.PlatformAdmin));
        });
        return builder;
    }
}
