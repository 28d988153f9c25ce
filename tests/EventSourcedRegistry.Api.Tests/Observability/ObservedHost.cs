using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventSourcedRegistry.Api.Tests.Observability;

/// <summary>
/// A host of the API with every signal on, configured as an operator would: the standard <c>OTEL_*</c> settings point
/// its OTLP exporter (HTTP/protobuf) at a local <see cref="OtlpCollector"/>, and the Prometheus endpoint and the JSON console logs are on. Short
/// export intervals, so a test waits for a batch in well under a second when the machine is idle. One for the class.
/// </summary>
public sealed class ObservedHost : IAsyncLifetime
{
    public OtlpCollector Collector { get; } = new();
    public LogCapture Logs { get; } = new();
    private SideHost? _host;

    /// <summary>The host's own database (after <see cref="Use"/>).</summary>
    public string ConnectionString => _host?.ConnectionString ?? throw new InvalidOperationException("The observed host has not started.");

    public Task<IAlbaHost> Use(AppFixture app)
    {
        _host ??= new SideHost("esr_observed", "observed", builder => builder
            .UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", Collector.Endpoint)
            .UseSetting("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .UseSetting("OTEL_SERVICE_NAME", "esr-observed")
            .UseSetting("OTEL_BSP_SCHEDULE_DELAY", "100")
            .UseSetting("OTEL_METRIC_EXPORT_INTERVAL", "1000")
            .UseSetting("Registry:Observability:Prometheus", "true")
            .UseSetting("Registry:Observability:ProgressInterval", "00:00:00.200")
            .UseSetting("Registry:Observability:JsonLogs", "true")
            // A log line every request writes inside the pipeline: where the correlation scope must show.
            .UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Routing.EndpointMiddleware", "Information")
            .ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Logs)));
        return _host.Use(app);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
        await Collector.DisposeAsync();
    }
}
