using System.Diagnostics;
using System.Globalization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.TimeTravel;

/// <summary>
/// How long a read waits for its point in history to settle, how far ahead of the store's clock an instant may be, and how
/// often the async daemon polls each workspace's high-water mark.
/// </summary>
public sealed record TimeTravelOptions(TimeSpan SettleTimeout, TimeSpan ClockSkew, TimeSpan HighWaterPoll)
{
    public const string Section = "Registry:TimeTravel";
    public static readonly TimeSpan MaxSettleTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The daemon's per-workspace high-water poll (Marten's <c>Projections.SlowPollingTime</c>). With events partitioned per
    /// workspace nothing wakes the daemon early (its LISTEN/NOTIFY wakeup reaches only the store-wide mark), so a mark
    /// follows an append up to ≈ 2 polls later (docs/design/workspaces.md §8.3: 250 ms gave a mean lag of 232 ms, max
    /// 507 ms; Marten's 1 s default gave 1.3 s, max 2 s, the whole settle budget). Each poll is one statement over every
    /// workspace whose planning grows with their number (65 ms at 300 workspaces): 250 ms keeps a read of one's own write
    /// well inside the 2 s budget on a loaded node at a cost that a deployment with many workspaces can trade back here.
    /// </summary>
    public static readonly TimeSpan DefaultHighWaterPoll = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MinHighWaterPoll = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan MaxHighWaterPoll = MaxSettleTimeout / 2;

    public static TimeTravelOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var settle = section.GetValue("SettleTimeout", MaxSettleTimeout);
        var skew = section.GetValue("ClockSkew", TimeSpan.FromSeconds(1));
        var poll = section.GetValue("HighWaterPoll", DefaultHighWaterPoll);
        if (settle < TimeSpan.Zero || settle > MaxSettleTimeout)
            throw new InvalidOperationException($"{Section}:SettleTimeout must be between 00:00:00 and {MaxSettleTimeout:c}; it is {settle:c}.");
        if (skew < TimeSpan.Zero || skew > MaxClockSkew)
            throw new InvalidOperationException($"{Section}:ClockSkew must be between 00:00:00 and {MaxClockSkew:c}; it is {skew:c}.");
        // At most half the longest settle wait, so the default wait always spans two polls. A shorter SettleTimeout than two
        // polls is allowed (0 refuses at once, by choice) and refuses more points that only wait for the next poll.
        if (poll < MinHighWaterPoll || poll > MaxHighWaterPoll)
            throw new InvalidOperationException($"{Section}:HighWaterPoll must be between {MinHighWaterPoll:c} and {MaxHighWaterPoll:c}; it is {poll:c}.");
        return new TimeTravelOptions(settle, skew, poll);
    }
}

/// <summary>When a request's wait for its point in history runs out; one per request, shared by every point it asks for.</summary>
public readonly record struct Deadline(long Started, TimeSpan Budget)
{
    public TimeSpan Left => Budget - Stopwatch.GetElapsedTime(Started);
    public bool Passed => Left <= TimeSpan.Zero;
}

/// <summary>
/// Pins a requested point in history (<c>atSequence</c>, <c>asOf</c>, a range's bounds) to a sequence whose answer can never
/// change, per <see cref="Settlement"/>: a point that is not settled yet is waited for, at most
/// <see cref="TimeTravelOptions.SettleTimeout"/>, and then refused with 503 "Not settled yet" and <c>Retry-After</c>; a
/// point beyond the present is refused at once (409 "In the future"). Never an earlier point instead.
/// Points are the workspace's own: its sequence, its high-water mark (docs/design/workspaces.md §3.4). The mark follows an
/// append at the daemon's next per-workspace poll (<see cref="TimeTravelOptions.HighWaterPoll"/>), which the settle wait is
/// budgeted against; Marten's LISTEN/NOTIFY wakeup does not reach the per-workspace marks, so none is sent.
/// </summary>
public sealed class PointResolver(NpgsqlDataSource data, TimeTravelOptions options, ILogger<PointResolver> logger)
{
    public const int RetryAfterSeconds = 1;
    public const string NotSettledTitle = "Not settled yet";
    public const string FutureTitle = "In the future";

    public Deadline Start() => new(Stopwatch.GetTimestamp(), options.SettleTimeout);

    /// <summary>asOf/atSequence from the query string; neither: the settled present (<see cref="Current"/>).</summary>
    public Task<(PointInTime? Point, IResult? Problem)> Resolve(HttpRequest request, WorkspaceId workspace, CancellationToken ct) =>
        Resolve(request.Query[PointsInTime.AsOf].ToString(), request.Query[PointsInTime.AtSequence].ToString(), workspace, ct);

    /// <summary>The same for values from a request body.</summary>
    public async Task<(PointInTime? Point, IResult? Problem)> Resolve(string asOf, string atSequence, WorkspaceId workspace, CancellationToken ct)
    {
        if (asOf.Length > 0 && atSequence.Length > 0)
            return (null, Problems.Validation([(PointsInTime.AsOf, "Give asOf or atSequence, not both.")]));
        if (atSequence.Length > 0)
        {
            if (!PointsInTime.TryParseSequence(atSequence, out var sequence))
                return (null, Problems.Validation([(PointsInTime.AtSequence, "atSequence is a global event sequence number: a whole number from 0.")]));
            var (settled, problem) = await Sequence(workspace, sequence, PointsInTime.AtSequence, Start(), ct);
            return problem is null ? (new PointInTime(settled, null), null) : (null, problem);
        }
        if (asOf.Length > 0)
        {
            if (!PointsInTime.TryParseInstant(asOf, PointsInTime.AsOf, out var instant, out var error))
                return (null, Problems.Validation([(PointsInTime.AsOf, error)]));
            var (settled, problem) = await Instant(workspace, instant, PointsInTime.AsOf, Start(), ct);
            return problem is null ? (new PointInTime(settled, instant), null) : (null, problem);
        }
        return (new PointInTime(await Current(workspace, Start(), ct), null), null);
    }

    /// <summary>
    /// "Now" for a read that names no point: the settled sequence (<see cref="Readings"/>) once it has reached every
    /// sequence handed out when the request began, so a caller reads its own acknowledged writes; if the wait runs out (a
    /// transaction still open since then), the settled sequence as it is. Either is a settled point, and the answer says which (asOfSequence).
    /// </summary>
    public async Task<long> Current(WorkspaceId workspace, Deadline deadline, CancellationToken ct)
    {
        var readings = new Readings(data, workspace);
        var probe = await readings.Next(ct);
        var wanted = probe.Allocated;
        for (var attempt = 0; readings.SettledThrough < wanted && !deadline.Passed; attempt++)
        {
            await Pause(deadline, Backoff(attempt), ct);
            await readings.Next(ct);
        }
        return readings.SettledThrough;
    }

    /// <summary>
    /// A request's readings of the store, and the highest sequence they show settled: the daemon's high-water mark, or
    /// what an earlier reading saw handed out once a later one shows every transaction that could hold it ended
    /// (<see cref="Settlement.SettledThrough"/>).
    /// </summary>
    private sealed class Readings(NpgsqlDataSource data, WorkspaceId workspace)
    {
        private SettlementProbe? _anchor;

        public long SettledThrough { get; private set; }

        public async Task<SettlementProbe> Next(CancellationToken ct)
        {
            var probe = await Settlement.ProbeAsync(data, RegistryStore.Schema, workspace, ct);
            var settled = _anchor is null ? probe.HighWaterMark : Settlement.SettledThrough(_anchor, probe);
            SettledThrough = Math.Max(SettledThrough, settled);
            // A new anchor once the old one has done its part, so a long wait keeps settling what is handed out meanwhile.
            if (_anchor is null || SettledThrough >= _anchor.Allocated) _anchor = probe;
            return probe;
        }
    }

    /// <summary>A range bound given as a sequence number (digits) or an RFC 3339 instant, settled.</summary>
    public Task<(long Sequence, IResult? Problem)> Bound(WorkspaceId workspace, string raw, string field, Deadline deadline, CancellationToken ct)
    {
        if (!PointsInTime.TryParseBound(raw, field, out var sequence, out var instant, out var error))
            return Task.FromResult<(long, IResult?)>((0, Problems.Validation([(field, error)])));
        return sequence is { } n ? Sequence(workspace, n, field, deadline, ct) : Instant(workspace, instant!.Value, field, deadline, ct);
    }

    /// <summary>The sequence itself once the high-water mark has reached it.</summary>
    public async Task<(long Sequence, IResult? Problem)> Sequence(WorkspaceId workspace, long sequence, string field, Deadline deadline, CancellationToken ct)
    {
        var readings = new Readings(data, workspace);
        for (var attempt = 0; ; attempt++)
        {
            var probe = await readings.Next(ct);
            switch (Settlement.OfSequence(sequence, probe, readings.SettledThrough))
            {
                case Settled.Yes:
                    return (sequence, null);
                case Settled.Future:
                    return (0, Future($"{field} {sequence} is in the future: no event has that sequence yet (the newest sequence handed " +
                                      $"out is {probe.Allocated}).", probe));
            }
            if (deadline.Passed)
                return (0, NotSettled($"{field} {sequence} is past the store's high-water mark ({probe.HighWaterMark}): a transaction " +
                                      "that may still commit at or below it has not finished, so an answer could still change.", probe));
            await Pause(deadline, Backoff(attempt), ct);
        }
    }

    /// <summary>The highest sequence stamped at or before the instant, once nothing at or before it can change any more.</summary>
    public async Task<(long Sequence, IResult? Problem)> Instant(WorkspaceId workspace, DateTimeOffset instant, string field, Deadline deadline, CancellationToken ct)
    {
        long? target = null;
        var readings = new Readings(data, workspace);
        for (var attempt = 0; ; attempt++)
        {
            var probe = await readings.Next(ct);
            var wait = Backoff(attempt);
            if (target is null)
            {
                switch (Settlement.OfInstant(instant, probe, options.ClockSkew))
                {
                    case Settled.Future:
                        return (0, Future($"{field} {Show(instant)} is ahead of the registry's clock ({Show(probe.Clock)}) by more than the " +
                                          $"{options.ClockSkew.TotalSeconds:0.###} s allowed for clock skew: the registry answers instants up to its " +
                                          "present. Check the client's clock, or ask again once that instant has passed.", probe));
                    case Settled.Yes:
                        // Read only now: every transaction that could stamp an event at or before the instant has ended.
                        target = (await SettledInstants.ResolveAsync(data, RegistryStore.Schema, workspace, instant, ct)).Sequence;
                        break;
                    default:
                        var clockPasses = instant + Settlement.ClockMargin - probe.Clock;
                        if (clockPasses > TimeSpan.Zero) wait = clockPasses;
                        break;
                }
            }
            if (target is { } n && n <= readings.SettledThrough) return (n, null);
            if (deadline.Passed) return (0, NotSettled(Why(instant, field, probe, target), probe));
            await Pause(deadline, wait, ct);
        }
    }

    /// <summary>Null once the workspace's audit log (an async projection) holds every event up to the sequence; else 503 when the wait runs out.</summary>
    public async Task<IResult?> AuditLogCovers(WorkspaceId workspace, long sequence, Deadline deadline, CancellationToken ct)
    {
        await using var connection = await data.OpenConnectionAsync(ct);
        for (var attempt = 0; ; attempt++)
        {
            var progress = await AuditProgress.ReadAsync(connection, workspace, ct);
            if (progress.AuditLogThrough >= sequence) return null;
            if (deadline.Passed)
                return NotSettled($"The audit log is complete through sequence {progress.AuditLogThrough}; this answer needs it through " +
                                  $"{sequence} (the high-water mark is {progress.HighWaterMark}).", null);
            await Pause(deadline, Backoff(attempt), ct);
        }
    }

    private string Why(DateTimeOffset instant, string field, SettlementProbe probe, long? target)
    {
        if (target is { } n)
            return $"{field} {Show(instant)} is not settled yet: its last event so far, sequence {n}, is past the store's high-water mark " +
                   $"({probe.HighWaterMark}), so an event below it may still be committing.";
        if (probe.Clock < instant + Settlement.ClockMargin)
            return $"{field} {Show(instant)} is not settled yet: the registry's clock ({Show(probe.Clock)}) has not passed it.";
        if (probe.OldestOpenTransaction is { } oldest && probe.Clock - oldest > TimeSpan.FromMinutes(1))
            logger.LogWarning("A database transaction open since {Since:O} keeps every instant after it unsettled; as-of reads of those instants are refused until it ends",
                oldest);
        return $"{field} {Show(instant)} is not settled yet: a transaction that began at or before it is still open and may still add events " +
               "stamped then.";
    }

    private static string Show(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(attempt switch { 0 => 5, 1 => 10, 2 => 20, _ => 40 });

    private static Task Pause(Deadline deadline, TimeSpan wait, CancellationToken ct)
    {
        var left = deadline.Left;
        return Task.Delay(wait < left ? wait : left > TimeSpan.Zero ? left : TimeSpan.Zero, ct);
    }

    private static IResult Future(string detail, SettlementProbe probe) =>
        Problems.Problem(StatusCodes.Status409Conflict, FutureTitle, detail, Stamps(probe));

    private IResult NotSettled(string detail, SettlementProbe? probe)
    {
        logger.LogInformation("Refused a point in history that did not settle within {Timeout}: {Detail}", options.SettleTimeout, detail);
        return new WithRetryAfter(Problems.Problem(StatusCodes.Status503ServiceUnavailable, NotSettledTitle,
            $"{detail} Ask again in a moment (Retry-After: {RetryAfterSeconds} s).", probe is null ? null : Stamps(probe)));
    }

    private static Dictionary<string, object?> Stamps(SettlementProbe probe) => new()
    {
        ["highWaterMark"] = probe.HighWaterMark,
        ["registryTime"] = probe.Clock,
    };

    /// <summary>A refusal that tells clients (and their retry policies) when to ask again.</summary>
    private sealed class WithRetryAfter(IResult problem) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return problem.ExecuteAsync(http);
        }
    }
}
