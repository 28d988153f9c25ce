using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace EventSourcedRegistry.Api.Tests.Observability;

/// <summary>
/// Issue 18, item 5: off by default. Without an OTLP endpoint and without the settings, the host registers no tracer or
/// meter provider, no registry instruments and no scrape endpoint, so no request pays for any of it.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_observability_is_off(AppFixture app)
{
    private static ObservabilityOptions From(params (string Key, string Value)[] settings) =>
        ObservabilityOptions.From(new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build());

    [Fact]
    public void nothing_is_on_without_an_endpoint_or_a_setting()
    {
        var options = From();
        Assert.False(options.Any);
        Assert.False(options.Tracing);
        Assert.False(options.Metrics);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")]
    public void any_otlp_endpoint_turns_traces_and_metrics_on(string variable)
    {
        var options = From((variable, "http://collector:4318"));
        Assert.True(options.Tracing);
        Assert.True(options.Metrics);
        Assert.False(options.Prometheus);
    }

    [Fact]
    public void prometheus_alone_turns_metrics_on_but_not_traces()
    {
        var options = From(("Registry:Observability:Prometheus", "true"));
        Assert.True(options.Metrics);
        Assert.False(options.Tracing);
    }

    [Fact]
    public void a_progress_interval_that_is_not_positive_stops_the_start() =>
        Assert.Throws<InvalidOperationException>(() => From(("Registry:Observability:ProgressInterval", "00:00:00")));

    [Fact]
    public async Task the_default_host_registers_no_telemetry_and_serves_no_metrics()
    {
        var services = app.Host.Services;
        Assert.Null(services.GetService<TracerProvider>());
        Assert.Null(services.GetService<MeterProvider>());
        Assert.Null(services.GetService<RegistryMetrics>());
        Assert.Equal(404, (await app.Host.Get(ObservabilityOptions.PrometheusPath)).Status);
    }
}
