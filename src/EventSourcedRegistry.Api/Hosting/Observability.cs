using EventSourcedRegistry.Api.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EventSourcedRegistry.Api.Hosting;

/// <summary>
/// What the registry emits, read from configuration: OTLP export when an <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c> is set (the
/// OpenTelemetry SDK reads every other <c>OTEL_*</c> variable itself), a Prometheus scrape endpoint, JSON console logs.
/// Each is off unless asked for: with none on, nothing is registered and no request pays for any of it.
/// </summary>
public sealed record ObservabilityOptions(bool Otlp, bool Prometheus, bool JsonLogs, TimeSpan ProgressInterval)
{
    public const string Section = "Registry:Observability";
    public const string PrometheusPath = "/metrics";

    /// <summary>The endpoint variables of the OTLP specification: the base one and each signal's own.</summary>
    public static readonly string[] OtlpEndpointVariables =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    public bool Tracing => Otlp;
    public bool Metrics => Otlp || Prometheus;
    public bool Any => Otlp || Prometheus || JsonLogs;

    public static ObservabilityOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var interval = section.GetValue("ProgressInterval", TimeSpan.FromSeconds(15));
        if (interval <= TimeSpan.Zero) throw new InvalidOperationException($"{Section}:ProgressInterval must be positive.");
        return new ObservabilityOptions(
            Otlp: OtlpEndpointVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name])),
            Prometheus: section.GetValue("Prometheus", false),
            JsonLogs: section.GetValue("JsonLogs", false),
            ProgressInterval: interval);
    }
}

public static class Observability
{
    public const string DefaultServiceName = "event-sourced-registry";
    /// <summary>The request span's attribute carrying the registry's correlation id (the one stored with the events).</summary>
    public const string CorrelationAttribute = "registry.correlation_id";
    public const string CorrelationScope = "CorrelationId";

    /// <summary>Traces, metrics and logs as <see cref="ObservabilityOptions"/> asks; nothing at all when it asks for none.</summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var options = ObservabilityOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        if (!options.Any) return builder;

        // Scopes carry the correlation id (see CorrelationMiddleware) beside ASP.NET Core's trace and span ids.
        if (options.JsonLogs) builder.Logging.AddJsonConsole(json => { json.IncludeScopes = true; json.UseUtcTimestamp = true; json.TimestampFormat = "O"; });
        builder.Services.AddSingleton<IStartupFilter, CorrelationStartup>();
        if (!options.Metrics && !options.Tracing) return builder;

        var telemetry = builder.Services.AddOpenTelemetry();
        // OTEL_SERVICE_NAME (read by the SDK's resource detector) wins; without it the registry names itself.
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
            telemetry.ConfigureResource(resource => resource.AddService(DefaultServiceName));

        if (options.Tracing)
        {
            // Marten's spans per session connection (marten.connection); Npgsql's per command, under them.
            builder.Services.ConfigureMarten(store => store.OpenTelemetry.TrackConnections = JasperFx.OpenTelemetry.TrackLevel.Normal);
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http => !http.Request.Path.StartsWithSegments(ObservabilityOptions.PrometheusPath))
                .AddNpgsql()
                .AddSource("Marten")
                .AddSource("Wolverine"));
        }

        if (options.Metrics)
        {
            builder.Services.AddSingleton<RegistryMetrics>();
            builder.Services.AddHostedService<ProgressSampler>();
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddMeter(RegistryMetrics.MeterName)
                    .AddMeter("Marten")
                    .AddNpgsqlInstrumentation();
                if (options.Prometheus) metrics.AddPrometheusExporter();
            });
        }

        // One exporter for every signal, configured by OTEL_EXPORTER_OTLP_* (endpoint, protocol, headers, timeout).
        if (options.Otlp) telemetry.UseOtlpExporter();
        return builder;
    }

    /// <summary>The Prometheus scrape endpoint, when on: platform admins only (the counts span every workspace).</summary>
    public static WebApplication MapObservability(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ObservabilityOptions>().Prometheus)
            app.MapPrometheusScrapingEndpoint(ObservabilityOptions.PrometheusPath).RequireAuthorization(Policies.PlatformAdmin).ExcludeFromDescription();
        return app;
    }

    /// <summary>Outermost, so it sees every request and the answer the rest of the pipeline gave.</summary>
    private sealed class CorrelationStartup : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseMiddleware<CorrelationMiddleware>();
            next(app);
        };
    }
}

/// <summary>
/// Puts the request's correlation id (as <see cref="CommandContext"/> derives it, so the one stored with its events) on
/// the request span and in the log scope, and counts commands by their outcome once answered.
/// </summary>
internal sealed class CorrelationMiddleware(RequestDelegate next, ILogger<CorrelationMiddleware> logger, RegistryMetrics? metrics = null)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var correlation = CommandContext.CorrelationOf(http);
        http.Features.Get<IHttpActivityFeature>()?.Activity.SetTag(Observability.CorrelationAttribute, correlation);
        using (logger.BeginScope(new[] { new KeyValuePair<string, object?>(Observability.CorrelationScope, correlation) }))
        {
            await next(http);
        }
        metrics?.CountCommand(http);
    }
}
