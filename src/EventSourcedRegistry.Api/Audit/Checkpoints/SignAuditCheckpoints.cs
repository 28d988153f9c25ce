using System.Collections.Concurrent;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Store;
using Marten;
using Wolverine;

namespace EventSourcedRegistry.Api.Audit.Checkpoints;

/// <summary>One occurrence of the periodic checkpoint signing: sign each workspace whose chain has grown.</summary>
public sealed record SignAuditCheckpoints(DateTimeOffset Occurrence);

/// <summary>
/// Every <c>Registry:Audit:CheckpointInterval</c>, signs a checkpoint of each workspace (the platform's included) whose
/// chain has grown. A Wolverine recurring schedule: one agent in the cluster (placed by the elected leader, moved to another
/// node when its node dies) publishes each occurrence once, so one node signs per interval instead of every node racing.
/// One workspace's broken or failing chain does not stop the others'.
/// </summary>
public static class SignAuditCheckpointsHandler
{
    public const string ScheduleName = "audit-checkpoints";

    public static async Task Handle(SignAuditCheckpoints message, IDocumentStore store, AuditCheckpoints checkpoints, CheckpointSchedule schedule,
        ILogger<AuditCheckpoints> logger, CancellationToken ct)
    {
        schedule.Handled(message.Occurrence);
        foreach (var workspace in await AuditWorkspaces.AllAsync(store, ct))
        {
            try
            {
                await checkpoints.CreateAsync(workspace, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogError(ex, "Signing the periodic audit checkpoint of workspace {Workspace} failed; trying again at the next occurrence", workspace);
            }
        }
    }
}

/// <summary>The periodic signing's schedule, and the occurrences this node handled (the health of a cluster and tests read them).</summary>
public sealed class CheckpointSchedule
{
    private readonly ConcurrentQueue<DateTimeOffset> _handled = new();

    public IReadOnlyCollection<DateTimeOffset> Occurrences => _handled.ToArray();

    internal void Handled(DateTimeOffset occurrence) => _handled.Enqueue(occurrence);

    /// <summary>
    /// The cron expression (with seconds) of an interval: Wolverine schedules by cron, so the interval must divide a minute,
    /// an hour or a day evenly (1 s … 30 s, 1 min … 30 min, 1 h … 12 h, 24 h); null for zero or less (periodic signing off).
    /// </summary>
    public static string? CronOf(TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero) return null;
        if (interval.Ticks % TimeSpan.TicksPerSecond != 0) throw Refuse(interval);
        var seconds = (long)interval.TotalSeconds;
        if (seconds < 60 && 60 % seconds == 0) return seconds == 1 ? "* * * * * *" : $"*/{seconds} * * * * *";
        if (seconds % 60 == 0 && seconds < 3600 && 60 % (seconds / 60) == 0) return $"0 */{seconds / 60} * * * *";
        if (seconds % 3600 == 0 && seconds < 86400 && 24 % (seconds / 3600) == 0) return $"0 0 */{seconds / 3600} * * *";
        if (seconds == 86400) return "0 0 0 * * *";
        throw Refuse(interval);
    }

    private static InvalidOperationException Refuse(TimeSpan interval) => new(
        $"{AuditOptions.Section}:CheckpointInterval {interval} does not divide a minute, an hour or a day evenly " +
        "(e.g. 00:00:30, 00:15:00, 01:00:00, 1.00:00:00).");

    /// <summary>Registers the recurring signing (nothing when the interval is zero or less).</summary>
    public static void Register(WolverineOptions wolverine, AuditOptions options)
    {
        wolverine.Discovery.IncludeType(typeof(SignAuditCheckpointsHandler));
        if (CronOf(options.CheckpointInterval) is not { } cron) return;
        // One signing at a time: an occurrence due while the last one still signs is skipped (two would race for the same
        // head and the operator chain's link of it), and the next one signs whatever the chain has grown to by then.
        wolverine.Schedules.ScheduleRecurring(SignAuditCheckpointsHandler.ScheduleName, cron, occurrence => new SignAuditCheckpoints(occurrence))
            .SkipWhileRunning();
    }
}
