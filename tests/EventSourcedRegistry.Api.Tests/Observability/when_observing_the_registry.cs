using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Alba;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace EventSourcedRegistry.Api.Tests.Observability;

/// <summary>
/// Issue 18, item 5: with an OTLP endpoint configured through the standard OTEL_* settings, a request is one trace from
/// the HTTP server span through Marten to PostgreSQL, carrying the registry's correlation id; commands are counted by
/// outcome; the Prometheus endpoint answers platform admins only. Before issue 18 the registry emitted nothing.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_observing_the_registry(AppFixture app, ObservedHost observed) : IClassFixture<ObservedHost>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task a_registered_version_is_one_trace_from_the_http_span_through_marten_to_postgresql_with_the_correlation_id()
    {
        var host = await observed.Use(app);
        await host.RegisterModel("traced");
        var correlation = $"corr-{Guid.NewGuid():N}";

        var response = await host.Post("/api/v1/models/traced/versions",
            new { artifact = new { uri = "s3://models/traced/1.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1234 } },
            new Dictionary<string, string> { ["X-Correlation-Id"] = correlation });
        Assert.True(response.Status == 201, $"{response.Status} {response.Body}");

        // Exports are batched: the request's spans may arrive in several.
        var spans = await observed.Collector.WaitFor(all => TraceOf(all, correlation) is { } trace
                                                            && Descendants(trace.Spans, trace.Server) is var below
                                                            && below.Any(s => s.Scope == "Marten") && below.Any(s => s.Scope == "Npgsql")
                                                            && trace.Spans.Any(LocksTheStream), Patience);
        var found = TraceOf(spans, correlation);
        Assert.True(found is not null, $"no server span carries the correlation id among {spans.Count} spans received in {observed.Collector.TraceExports} exports");
        var (server, trace) = found.Value;
        Assert.Equal("POST", server.Attributes.GetValueOrDefault("http.request.method"));
        Assert.Equal("/api/v1/models/{name}/versions", server.Attributes.GetValueOrDefault("http.route"));
        // One trace: below the server span (by parent ids, within its trace id) Marten's session spans and PostgreSQL's commands.
        var below = Descendants(trace, server);
        Assert.Contains(below, s => s.Scope == "Marten" && s.Name == "marten.connection");
        Assert.Contains(below, s => s.Scope == "Npgsql" && (s.Attributes.GetValueOrDefault("db.system.name") ?? s.Attributes.GetValueOrDefault("db.system")) == "postgresql");
        // The command itself (not only the name lookup before it) reached PostgreSQL in this trace: the stream's lock. Its
        // span's parent is the Marten span of the command's transaction, which Marten 9 never ends (so never exports): the
        // session drops its tracing wrapper when it begins the transaction. Hence the trace id here, not the parent chain.
        Assert.Contains(trace, LocksTheStream);
    }

    [Fact]
    public async Task without_a_correlation_header_the_span_carries_the_id_the_response_and_the_events_carry()
    {
        var host = await observed.Use(app);
        var response = await host.Post("/api/v1/models", new { name = "untagged" });
        Assert.Equal(201, response.Status);
        var correlation = response.Raw.Headers.GetValues("X-Correlation-Id").Single();

        var spans = await observed.Collector.WaitFor(all => TraceOf(all, correlation) is not null, Patience);
        var found = TraceOf(spans, correlation);
        Assert.True(found is not null, $"no server span carries the correlation id {correlation} among {spans.Count} spans");
        // Derived from the request's own trace, as CommandContext does when the client sends none.
        Assert.Equal(found.Value.Server.TraceId, correlation);
    }

    [Fact]
    public async Task the_logs_of_a_request_are_json_and_carry_its_correlation_id()
    {
        var host = await observed.Use(app);
        var formatter = host.Services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName;
        Assert.Equal(ConsoleFormatterNames.Json, formatter);
        Assert.True(host.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue.IncludeScopes);

        var correlation = $"logged-{Guid.NewGuid():N}";
        var response = await host.Post("/api/v1/models", new { name = "logged" }, new Dictionary<string, string> { ["X-Correlation-Id"] = correlation });
        Assert.Equal(201, response.Status);

        Assert.Contains(observed.Logs.Entries, entry => entry.Category.StartsWith("Microsoft.AspNetCore.Routing", StringComparison.Ordinal)
            && entry.ScopeValues.Any(v => v.Key == Api.Hosting.Observability.CorrelationScope && Equals(v.Value, correlation)));
    }

    [Fact]
    public async Task a_command_moves_the_command_counter_by_its_outcome()
    {
        var host = await observed.Use(app);
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        var seen = new ConcurrentQueue<(long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        // This host's instruments only: every host of the test run has a meter of the same name.
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == RegistryMetrics.MeterName && instrument.Name == RegistryMetrics.Commands)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            seen.Enqueue((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.Start();

        await host.RegisterModel("counted");
        var refused = await host.Post("/api/v1/models/nowhere/versions",
            new { artifact = new { uri = "s3://models/x.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } });
        Assert.Equal(404, refused.Status);

        bool Has(string command, string outcome, int status) => seen.Any(m => m.Value == 1
            && Equals(m.Tags.GetValueOrDefault("command"), command) && Equals(m.Tags.GetValueOrDefault("outcome"), outcome)
            && Equals(m.Tags.GetValueOrDefault("http.response.status_code"), status));
        var until = DateTime.UtcNow + Patience;
        while (!(Has("RegisterModel", "accepted", 201) && Has("RegisterModelVersion", "refused", 404)) && DateTime.UtcNow < until) await Task.Delay(50);

        Assert.True(Has("RegisterModel", "accepted", 201), $"measured: {Describe(seen)}");
        Assert.True(Has("RegisterModelVersion", "refused", 404), $"measured: {Describe(seen)}");
        Assert.Contains(seen, m => Equals(m.Tags.GetValueOrDefault("problem.type"), "https://httpstatuses.io/404"));
        // A read is no command.
        await host.Get("/api/v1/models/counted");
        Assert.DoesNotContain(seen, m => Equals(m.Tags.GetValueOrDefault("command"), "GetModel"));
    }

    [Fact]
    public async Task the_lag_gauge_counts_stored_events_so_a_number_handed_out_to_no_event_leaves_it_at_zero()
    {
        var host = await observed.Use(app);
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        await host.RegisterModel("gauged");
        // A number the workspace's event sequence handed out to an append that never committed (as a rolled-back
        // transaction leaves one): no event holds it, so no projection will ever reach it.
        await app.SqlOn(observed.ConnectionString,
            $"select nextval('{EventSourcedRegistry.Store.RegistryStore.Schema}.{EventSourcedRegistry.Store.EventGaps.SequencePrefix}{EventSourcedRegistry.Store.WorkspacePartitions.DefaultSuffix}')");
        var tenant = EventSourcedRegistry.Store.WorkspaceId.Default.TenantId;
        var caughtUp = $"""
            select coalesce((select last_seq_id from {EventSourcedRegistry.Audit.AuditTrail.ProgressionTable} where name = '{EventSourcedRegistry.Audit.AuditTrail.AuditLogProjectionName}:All:{tenant}'), 0)
                   >= (select max(seq_id) from {EventSourcedRegistry.Store.RegistryStore.Schema}.mt_events where tenant_id = '{tenant}')
            """;
        var until = DateTime.UtcNow + Patience;
        while (!(await app.SqlListOn<bool>(observed.ConnectionString, caughtUp)).Single() && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.True((await app.SqlListOn<bool>(observed.ConnectionString, caughtUp)).Single(), "the audit log did not catch up");

        var sampler = host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ProgressSampler>().Single();
        await sampler.SampleAsync(CancellationToken.None);
        var lag = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == RegistryMetrics.ProjectionLag) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var named = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (Equals(named.GetValueOrDefault("workspace"), tenant)) lag[(string)named["projection"]!] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.True(lag.TryGetValue(EventSourcedRegistry.Audit.AuditTrail.AuditLogProjectionName, out var auditLog), $"measured: {string.Join(", ", lag)}");
        Assert.Equal(0, auditLog);
    }

    [Fact]
    public async Task artifact_bytes_in_and_out_are_counted()
    {
        var host = await observed.Use(app);
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        long received = 0, sent = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name is RegistryMetrics.ArtifactBytesReceived or RegistryMetrics.ArtifactBytesSent)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == RegistryMetrics.ArtifactBytesReceived) Interlocked.Add(ref received, value);
            else Interlocked.Add(ref sent, value);
        });
        listener.Start();

        var bytes = new byte[1_500];
        Random.Shared.NextBytes(bytes);
        var sha256 = await host.UploadOk(bytes);
        using var download = await host.Download($"/api/v1/artifacts/{sha256}");
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());

        var until = DateTime.UtcNow + Patience;
        while ((Interlocked.Read(ref received) < bytes.Length || Interlocked.Read(ref sent) < bytes.Length) && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.Equal(bytes.Length, Interlocked.Read(ref received));
        Assert.Equal(bytes.Length, Interlocked.Read(ref sent));
    }

    [Fact]
    public async Task the_prometheus_endpoint_shows_commands_and_the_audit_progress_to_platform_admins()
    {
        var host = await observed.Use(app);
        await host.RegisterModel("scraped");

        var text = "";
        var until = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < until)
        {
            var scrape = await host.Get(ObservabilityOptions.PrometheusPath);
            Assert.Equal(200, scrape.Status);
            text = scrape.Body!.GetValue<string>();
            if (text.Contains("command=\"RegisterModel\"") && text.Contains("registry_audit_chain_position") && text.Contains("registry_projection_lag")) break;
            await Task.Delay(200);
        }
        Assert.Contains("registry_commands_total{", text);
        Assert.Contains("command=\"RegisterModel\"", text);
        Assert.Contains("registry_audit_chain_position", text);
        Assert.Contains("registry_projection_lag", text);
        // ASP.NET Core's own request metrics come along.
        Assert.Contains("http_server_request_duration_seconds", text);
    }

    [Fact]
    public async Task the_prometheus_endpoint_refuses_callers_who_are_not_platform_admins()
    {
        var host = await observed.Use(app);
        await host.RegisterModel("secret-model");
        await host.Get(ObservabilityOptions.PrometheusPath);

        using var anonymous = host.AnonymousClient();
        Assert.Equal(401, (await anonymous.Send(HttpMethod.Get, ObservabilityOptions.PrometheusPath)).Status);
        foreach (var grants in new[] { new[] { "admin" }, ["reader:secret-model"], ["auditor"] })
        {
            using var caller = await host.ClientWithRoles(grants);
            var refused = await caller.Send(HttpMethod.Get, ObservabilityOptions.PrometheusPath);
            Assert.Equal(403, refused.Status);
            Assert.DoesNotContain("registry_commands", refused.Body?.ToJsonString() ?? "");
        }
    }

    /// <summary>PostgreSQL's span of the statement that locks the model's stream row (FetchForExclusiveWriting).</summary>
    private static bool LocksTheStream(ReceivedSpan span) =>
        span.Scope == "Npgsql" && span.Attributes.GetValueOrDefault("db.query.text") is { } sql
        && sql.Contains("mt_streams", StringComparison.Ordinal) && sql.Contains("for update", StringComparison.OrdinalIgnoreCase);

    private static (ReceivedSpan Server, IReadOnlyList<ReceivedSpan> Spans)? TraceOf(IReadOnlyCollection<ReceivedSpan> spans, string correlation)
    {
        var server = spans.FirstOrDefault(s => s.Kind == ReceivedSpan.ServerKind && s.Attributes.GetValueOrDefault(Api.Hosting.Observability.CorrelationAttribute) == correlation);
        return server is null ? null : (server, spans.Where(s => s.TraceId == server.TraceId).ToList());
    }

    /// <summary>The spans below <paramref name="root"/>: each reaches it by its parent ids.</summary>
    private static List<ReceivedSpan> Descendants(IReadOnlyList<ReceivedSpan> trace, ReceivedSpan root)
    {
        var byId = trace.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        return trace.Where(span =>
        {
            var parent = span.ParentSpanId;
            for (var hops = 0; parent is not null && hops < 100; hops++)
            {
                if (parent == root.SpanId) return true;
                parent = byId.GetValueOrDefault(parent)?.ParentSpanId;
            }
            return false;
        }).ToList();
    }

    private static string Describe(IEnumerable<(long Value, Dictionary<string, object?> Tags)> measurements) =>
        string.Join("; ", measurements.Select(m => $"{m.Value} {string.Join(",", m.Tags.Select(t => $"{t.Key}={t.Value}"))}"));
}
