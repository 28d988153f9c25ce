using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Admin;
using EventSourcedRegistry.Api.Approvals;
using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Audit;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Messaging;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.WebConsole;
using EventSourcedRegistry.Api.Webhooks;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Store;
using JasperFx;
using JasperFx.Events.Daemon;
using JasperFx.Events.Daemon.HighWater;
using Marten;
using Marten.Events.Daemon.HighWater;
using Npgsql;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Hosting;

public static class RegistryConfiguration
{
    /// <summary>Marten with the registry's store, Wolverine.Http endpoints, the lifecycle graph, health checks and OpenAPI.</summary>
    public static WebApplicationBuilder AddRegistry(this WebApplicationBuilder builder, RegistryDatabase database)
    {
        builder.Services.AddSingleton(database);

        var lifecycleOptions = builder.Configuration.GetSection(LifecycleOptions.Section).Get<LifecycleOptions>() ?? new LifecycleOptions();
        // Validated here so a misconfiguration stops the app at startup; a workspace's own policy overrides it per request.
        var lifecycle = Lifecycle.Lifecycle.From(lifecycleOptions);
        builder.AddApprovals(lifecycleOptions, lifecycle);

        var snapshotEvery = builder.Configuration.GetValue("Registry:TimeTravel:SnapshotEvery", History.ModelSnapshots.DefaultInterval);
        if (snapshotEvery < 1) throw new InvalidOperationException("Registry:TimeTravel:SnapshotEvery must be at least 1.");
        builder.Services.AddSingleton(new History.TimeTravelSettings(snapshotEvery));
        var timeTravel = TimeTravel.TimeTravelOptions.From(builder.Configuration);
        builder.Services.AddSingleton(timeTravel);
        var auditWorker = AuditOptions.WorkerFrom(builder.Configuration);
        var messaging = Messaging.MessagingOptions.From(builder.Configuration);
        builder.Services.AddSingleton(messaging);
        builder.Services.AddMarten(options =>
            {
                options.Connection(database.PooledConnectionString);
                options.ConfigureRegistry(snapshotEvery);
                // The registry-wide rollbacks' progress (see RegistryRollbacks): created with the schema, not at first use.
                options.Schema.For<Rollback.RegistryRollbackJob>();
                options.Schema.For<Rollback.RegistryRollbackModel>();
                // Projection rebuilds' jobs and the index that lets one run at a time (see ProjectionRebuilds).
                options.AddProjectionRebuilds();
                options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                // Each workspace's high-water mark moves only at this poll (see TimeTravelOptions.HighWaterPoll).
                options.Projections.SlowPollingTime = timeTravel.HighWaterPoll;
                // Every append also sends a NOTIFY (Marten's channel, in the append's own batch, delivered at commit): the webhook
                // dispatcher wakes on it instead of at its next poll (see WebhookDispatcher), as does the async daemon.
                options.Events.UseListenNotifyForEventAppends = true;
            })
            .UseLightweightSessions()
            // Wolverine's durable messages in their own schema of this database (see MessagingConfiguration).
            .AddRegistryMessaging(messaging)
            .ApplyAllDatabaseChangesOnStartup()
            // Async projections and the store's high-water mark; HotCold runs them on exactly one node of a cluster. With the
            // audit worker on, the worker runs both (the audit projections are the only async ones) and the daemon is off.
            .AddAsyncDaemon(auditWorker ? DaemonMode.Disabled : DaemonMode.HotCold);
        if (auditWorker)
        {
            builder.Services.AddSingleton<AuditWorker>();
            builder.Services.AddHostedService(services => services.GetRequiredService<AuditWorker>());
        }
        // Before anything reads or writes: the workspaces every store has (a session of a workspace without its partition
        // cannot append). Registered after Marten's own start-up, which applies the schema first.
        builder.Services.AddHostedService<WorkspaceRegistration>();
        builder.Services.AddSingleton<TimeTravel.PointResolver>();
        builder.Services.AddSingleton<TimeTravel.PastModels>();
        builder.Services.AddSingleton(Models.Reading.ModelViewAnswers.From(builder.Configuration));

        builder.Host.UseWolverine(options =>
        {
            options.UseRuntimeCompilation();
            // No scanning for handlers: the few the registry has are named below (IncludeType), so nothing else becomes one.
            options.Discovery.DisableConventionalDiscovery();
            // The request's WorkspaceStore comes from a factory (it reads the request's workspace), which Wolverine's code
            // generation cannot inline: resolved from the request's container, as Wolverine's docs advise for such types.
            options.CodeGeneration.AlwaysUseServiceLocationFor<Workspaces.WorkspaceStore>();
            // The request's artifact store is its workspace's, made by a factory Wolverine's code generation cannot inline.
            options.CodeGeneration.AlwaysUseServiceLocationFor<EventSourcedRegistry.Artifacts.IArtifactStore>();
            options.ConfigureRegistryMessaging(messaging);
            options.Discovery.IncludeType(typeof(Rollback.RollBackRegistryModelHandler));
            options.Discovery.IncludeType(typeof(Admin.RunProjectionRebuildHandler));
            Audit.Checkpoints.CheckpointSchedule.Register(options,
                builder.Configuration.GetSection(AuditOptions.Section).Get<AuditOptions>() ?? new AuditOptions());
        });
        builder.Services.AddWolverineHttp();
        builder.Services.ConfigureHttpJsonOptions(options => Json.Configure(options.SerializerOptions));
        builder.Services.AddSingleton<ModelCommands>();
        // Sessions of the request's workspace (see WorkspaceStore): endpoints take this, not the IDocumentStore.
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped(Workspaces.WorkspaceStore.ForRequest);
        builder.Services.AddSingleton<Admin.ProjectionRebuilds>();
        // Relational reads of the views Marten does not hold as documents (deployment history).
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(database.PooledConnectionString));
        builder.Services.AddSingleton(_ => Models.Listing.TagListing.For(database.PooledConnectionString));
        builder.Services.AddArtifactStore();
        builder.AddAuditCheckpoints();
        builder.AddRegistryAccess();
        builder.AddWorkspaces();
        builder.AddConsole();
        builder.AddWebhooks();
        builder.Services.AddSingleton<EventSourcedRegistry.Api.Feed.FeedReader>();
        builder.AddCanonicalJsonInput();
        builder.AddRegistryLimits();

        builder.Services.AddHostedService<EventTimestampIndexer>();
        builder.Services.AddHostedService<RegistryStatesBackfill>();
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Describe);
        builder.Services.AddExceptionHandler<FaultHandler>();
        builder.Services.AddRegistryOpenApi();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("postgresql", tags: ["ready"]);
        builder.Services.AddEmbeddedPostgresSupervisor(database);
        builder.AddObservability();
        return builder;
    }

    public static WebApplication UseRegistry(this WebApplication app)
    {
        // A misconfigured artifact store stops the app at startup, not at the first upload.
        app.Services.GetRequiredService<ArtifactStores>();
        // Outermost: every refusal on an MLflow route, whichever door writes it, leaves in MLflow's error shape.
        app.UseMiddleware<Mlflow.MlflowErrorShape>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // /api/v1/workspaces/{ws}/… → /api/v1/… in workspace ws, then routing (explicitly after it).
        app.UseWorkspaceAddressing();
        // /console/workspaces/{ws}/… in workspace ws, and the console's security headers.
        app.UseConsoleAddressing();
        // The input door: the request's text before anything reads it, its body after authorization.
        app.UseCanonicalRequestText();
        app.UseRegistryAccess();
        app.UseCanonicalJsonInput();
        app.UseWorkspacePolicies();
        app.MapWolverineEndpoints(options =>
        {
            options.RejectUnparseableQueryValues = true;
            options.RequireCheckedJsonBodies();
            options.AddPolicy<ApiResponsesPolicy>();
        });
        // The only anonymous endpoints: the API's description (and its reference page) and the health probes.
        app.MapOpenApi().AllowAnonymous();
        app.MapApiReference();
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
        app.MapAuditHealth();
        app.MapConsole();
        app.MapObservability();
        return app;
    }
}

/// <summary>Ready when the event store answers a query.</summary>
public sealed class DatabaseHealthCheck(IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            // workspaces: a probe of the database, not of a workspace's data; any registered tenant's session will do.
            await using var session = store.QuerySession(WorkspaceId.Platform.TenantId);
            await session.QueryAsync<int>("select 1", ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer.", ex);
        }
    }
}

/// <summary>
/// Registers the workspaces every store has, <c>default</c> (what unprefixed routes address, and what a store written before
/// workspaces becomes) and the platform, once Marten has applied its schema and before the API serves requests.
/// </summary>
public sealed class WorkspaceRegistration(IDocumentStore store) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await WorkspacePartitions.AddAsync(store, WorkspaceId.Default, ct);
        await WorkspacePartitions.AddAsync(store, WorkspaceId.Platform, ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// Adds the index that resolves asOf instants to sequences, the model list's tag table and name-pattern index, and the
/// guard on Marten's gap-filling events, once Marten has created the tables.
/// </summary>
public sealed class EventTimestampIndexer(NpgsqlDataSource data) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using (var command = data.CreateCommand(RegistryStore.CreateEventTimestampIndexSql))
            await command.ExecuteNonQueryAsync(ct);
        // Read by the registry as of a point until the registry-state view replaced it; every interval write kept it.
        await using (var command = data.CreateCommand($"drop index if exists {RegistryStore.Schema}.ix_deployment_history_held"))
            await command.ExecuteNonQueryAsync(ct);

        // The model list's tag table and name-pattern index (see ModelTagIndex).
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var command = new NpgsqlCommand(EventSourcedRegistry.Models.ModelTagIndex.EnsureSql(RegistryStore.Schema), connection, transaction))
            await command.ExecuteNonQueryAsync(ct);
        // Marten's gap-filling events stamped with a time and kept from reusing sequences (see EventGaps).
        await using (var command = new NpgsqlCommand(EventGaps.EnsureSql(RegistryStore.Schema), connection, transaction))
            await command.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// Fills the registry-state view of a store written before the view existed: when it is empty but versions are held,
/// the deployment history is rebuilt (compared, and the states written) before the API serves requests.
/// </summary>
public sealed class RegistryStatesBackfill(IDocumentStore store, NpgsqlDataSource data, EventSourcedRegistry.History.TimeTravelSettings timeTravel,
    ILogger<RegistryStatesBackfill> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using (var command = data.CreateCommand(
                         $"select not exists (select 1 from {EventSourcedRegistry.History.RegistryStates.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1) " +
                         $"and exists (select 1 from {EventSourcedRegistry.History.DeploymentHistory.QualifiedTable(RegistryStore.Schema)} " +
                         $"where tenant_id = $1 and kind <> '{EventSourcedRegistry.History.DeploymentHistory.Kinds.Name}')"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Default.TenantId });
            if (await command.ExecuteScalarAsync(ct) is not true) return;
        }

        logger.LogWarning("The registry-state view is empty: rebuilding it from the events before serving");
        // The default workspace only: a store written before the view existed was written before workspaces.
        var rebuilder = new EventSourcedRegistry.Rebuild.InlineViewRebuilder(store, data, WorkspaceId.Default, timeTravel.SnapshotEvery);
        var reports = await rebuilder.RebuildAsync([EventSourcedRegistry.Rebuild.InlineViewRebuilder.Intervals], apply: true, null, ct);
        foreach (var report in reports) logger.LogWarning("Registry-state backfill: {Report}", report);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
