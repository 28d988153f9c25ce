using System.Diagnostics;
using System.Diagnostics.Metrics;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Hosting;

/// <summary>
/// The registry's own instruments (meter <see cref="MeterName"/>). Registered only when metrics are on, so code that
/// records asks the request's services for it and records nothing when it is absent. Made by the host's
/// <see cref="IMeterFactory"/>: each host has its own instruments (tests run several hosts in one process).
/// </summary>
public sealed class RegistryMetrics
{
    public const string MeterName = "EventSourcedRegistry";
    public const string Commands = "registry.commands";
    public const string ArtifactBytesReceived = "registry.artifact.bytes_received";
    public const string ArtifactBytesSent = "registry.artifact.bytes_sent";
    public const string ProjectionLag = "registry.projection.lag";
    public const string AuditChainPosition = "registry.audit.chain.position";

    private readonly Counter<long> _commands;
    private readonly Counter<long> _received;
    private readonly Counter<long> _sent;
    private volatile IReadOnlyList<WorkspaceProgress> _progress = [];

    public RegistryMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _commands = meter.CreateCounter<long>(Commands, "{command}", "Commands answered, by command and outcome (accepted, refused with its problem type, failed).");
        _received = meter.CreateCounter<long>(ArtifactBytesReceived, "By", "Artifact bytes stored by uploads.");
        _sent = meter.CreateCounter<long>(ArtifactBytesSent, "By", "Artifact bytes served by downloads.");
        meter.CreateObservableGauge(ProjectionLag, ObserveLag, "{event}",
            "Events stored but not yet applied by an async projection (the audit log, the hash chain), per workspace.");
        meter.CreateObservableGauge(AuditChainPosition, ObserveChain, "{event}",
            "The workspace's sequence through which its hash chain is sealed.");
    }

    /// <summary>
    /// A workspace's progress as last sampled: its last stored event (as <c>GET /api/v1/admin/projections</c> and
    /// <c>GET /api/v1/audit</c> count it; a number the event sequence handed out to an append that never committed is no
    /// event) and each async projection's position.
    /// </summary>
    public sealed record WorkspaceProgress(string Workspace, long LastEvent, long AuditLog, long HashChain);

    public void Sampled(IReadOnlyList<WorkspaceProgress> progress) => _progress = progress;

    /// <summary>A command is a request with an unsafe method that reached an endpoint; named by its operation id.</summary>
    public void CountCommand(HttpContext http)
    {
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method)) return;
        if (http.GetEndpoint() is not { } endpoint) return;
        var command = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName
                      ?? (endpoint as RouteEndpoint)?.RoutePattern.RawText
                      ?? endpoint.DisplayName
                      ?? "unknown";
        var status = http.Response.StatusCode;
        var tags = new TagList
        {
            { "command", command },
            { "outcome", status < 400 ? "accepted" : status < 500 ? "refused" : "failed" },
            { "http.response.status_code", status },
        };
        // Every refusal the registry writes carries the type of its status (Problems.TypeOf).
        if (status >= 400) tags.Add("problem.type", Infrastructure.Problems.TypeOf(status));
        _commands.Add(1, tags);
    }

    public void Received(long bytes) => _received.Add(bytes);
    public void Sent(long bytes) => _sent.Add(bytes);

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var p in _progress)
        {
            yield return new Measurement<long>(Math.Max(0, p.LastEvent - p.AuditLog),
                new KeyValuePair<string, object?>("projection", AuditTrail.AuditLogProjectionName), new KeyValuePair<string, object?>("workspace", p.Workspace));
            yield return new Measurement<long>(Math.Max(0, p.LastEvent - p.HashChain),
                new KeyValuePair<string, object?>("projection", AuditTrail.HashChainProjectionName), new KeyValuePair<string, object?>("workspace", p.Workspace));
        }
    }

    private IEnumerable<Measurement<long>> ObserveChain() =>
        _progress.Select(p => new Measurement<long>(p.HashChain, new KeyValuePair<string, object?>("workspace", p.Workspace)));
}

/// <summary>
/// Reads every workspace's progress in one query per interval (<c>Registry:Observability:ProgressInterval</c>, 15 s) for the
/// gauges, which then answer from memory: a scrape or an export never queries the database, and no request does.
/// </summary>
public sealed class ProgressSampler(NpgsqlDataSource data, RegistryMetrics metrics, ObservabilityOptions options, ILogger<ProgressSampler> logger)
    : BackgroundService
{
    private static readonly string Sql =
        $"""
         select p.partition_value,
                {EventSourcedRegistry.History.StorePosition.LastEventSql(RegistryStore.Schema, "p.partition_value")},
                coalesce(l.last_seq_id, 0), coalesce(c.last_seq_id, 0)
         from {RegistryStore.Schema}.mt_tenant_partitions p
         left join {AuditTrail.ProgressionTable} l on l.name = '{AuditTrail.AuditLogProjectionName}:All:' || p.partition_value
         left join {AuditTrail.ProgressionTable} c on c.name = '{AuditTrail.HashChainProjectionName}:All:' || p.partition_value
         """;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.ProgressInterval);
        do
        {
            try
            {
                await SampleAsync(ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // The gauges keep their last values; PostgreSQL's health check reports an outage.
                logger.LogDebug(ex, "Could not sample the projections' progress");
            }
        } while (await timer.WaitForNextTickAsync(ct));
    }

    public async Task SampleAsync(CancellationToken ct)
    {
        // The sampler's own statements are no request's work: no spans for them.
        using var quiet = OpenTelemetry.SuppressInstrumentationScope.Begin();
        var progress = new List<RegistryMetrics.WorkspaceProgress>();
        await using var command = data.CreateCommand(Sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            progress.Add(new RegistryMetrics.WorkspaceProgress(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        metrics.Sampled(progress);
    }
}
