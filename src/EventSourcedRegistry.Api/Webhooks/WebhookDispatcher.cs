using EventSourcedRegistry.Api.Feed;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>
/// Delivers each subscription's events, in the order of the workspace's global sequence (hence in order per model), from
/// a cursor kept on the subscription's row. The event store is the outbox: a command's events commit in the command's own
/// transaction, so no commit can lose its notification and a refused or rolled-back command sends nothing, with no second
/// copy of anything to keep consistent. Only settled events are handed out (<see cref="Settlement"/>: nothing at or below
/// them can still commit), so a subscriber never sees sequence N before a lower one that was still in flight.
/// <para>
/// Why not Wolverine's durable outbox: its scheduled retries take a failed message out of its order, while a receiver
/// must see a model's events in order across a retry window of a day; that needs a head of line per subscription, which a
/// cursor over the already-transactional event log gives without storing every event a second time.
/// </para>
/// Exactly one node delivers: the holder of a PostgreSQL advisory lock, as the audit worker leads; a node that dies
/// releases it with its connection and another takes over from the stored cursors (a delivery in flight then may be sent
/// again, with the same delivery id). A failed attempt is retried with exponential backoff and full jitter for
/// <see cref="WebhookOptions.RetryFor"/>, then dead-lettered and the cursor moves on; a 410 pauses the subscription.
/// </summary>
public sealed class WebhookDispatcher(NpgsqlDataSource data, RegistryDatabase database, WebhookSubscriptions subscriptions, WebhookSender sender,
    WebhookOptions options, FeedReader feed, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const long LockKey = 0x4553_5248_4f4f_4b53; // "ESRHOOKS"
    public const int BatchSize = 100;
    public const string Actor = "registry:webhooks";

    /// <summary>How long a delivery run keeps looking for newly settled events while its workspace is busy (see <see cref="DeliverAsync"/>).</summary>
    public static readonly TimeSpan FollowFor = TimeSpan.FromSeconds(1);

    /// <summary>How many deliveries of a backlog go between two writes of the cursor (see <see cref="DeliverAsync"/>).</summary>
    public const int CursorEvery = 10;

    /// <summary>Marten's channel for its appends' notifications (<c>Events.UseListenNotifyForEventAppends</c>).</summary>
    public const string Channel = Marten.Events.Daemon.HighWater.PostgresqlListenWakeup.DefaultChannel;

    /// <summary>The soonest a look follows one that found its earlier readings old enough but a transaction still open.</summary>
    public static readonly TimeSpan NextLook = TimeSpan.FromMilliseconds(10);

    /// <summary>The most readings kept waiting to settle per workspace (more would only settle what a later one settles too).</summary>
    private const int MaxReadings = 32;

    private readonly ConcurrentDictionary<(string Tenant, Guid Id, long Replay), Task> _running = new();
    private readonly ConcurrentDictionary<string, Readings> _readings = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>
    /// How long a woken dispatcher gathers notifications before it polls: every append notifies, and at hundreds of commands
    /// a second a poll per notification was most of the appends' count again in statements (2,982 polls for 4,000
    /// registrations, issue 17), while one poll answers every notification before it. At most this much more latency.
    /// </summary>
    public static readonly TimeSpan WakeGather = TimeSpan.FromMilliseconds(20);
    private long _wakes;
    /// <summary>Completed at the next wake (and replaced): what a run following a busy workspace waits on beside its next look.</summary>
    private TaskCompletionSource _woken = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsLeader { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        // The lock lives as long as this connection, never pooled (see AuditWorker); each poll's first statement runs on it,
        // so a broken connection fails the poll and the lock is taken anew on a new one.
        var lockConnection = new NpgsqlConnectionStringBuilder(database.PooledConnectionString) { Pooling = false }.ConnectionString;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var leader = new NpgsqlConnection(lockConnection);
                await leader.OpenAsync(ct);
                while (!await TryLock(leader, ct)) await Task.Delay(options.Poll * 4, ct);
                IsLeader = true;
                _readings.Clear();
                logger.LogInformation("This node delivers the webhooks (webhook dispatcher lock taken)");
                using var leading = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var listening = options.Listen ? ListenAsync(lockConnection, leading.Token) : Task.CompletedTask;
                try
                {
                    while (!ct.IsCancellationRequested)
                    {
                        await PollAsync(leader, ct);
                        // A notification ends the wait at once; the poll is what is left when notifications are lost.
                        if (await _wake.WaitAsync(options.Poll, ct))
                            await Task.Delay(WakeGather, ct);
                    }
                }
                finally
                {
                    await leading.CancelAsync();
                    await listening;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                IsLeader = false;
                logger.LogError(ex, "The webhook dispatcher failed; it tries again on a new connection");
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); }
                catch (OperationCanceledException) { break; }
            }
        }
        IsLeader = false;
        await Task.WhenAll(_running.Values);
    }

    /// <summary>
    /// LISTENs on its own connection (never pooled: a pooled one would carry the LISTEN to whoever takes it next) for the
    /// appends' notifications, and wakes the dispatcher at each. Why not Marten's <c>PostgresqlListenWakeup</c>: it wakes one
    /// waiter of the daemon's, while the dispatcher also wakes its runs under way (<see cref="_wakes"/>). A connection that
    /// breaks is opened again after a second; the wake after each LISTEN makes up for what was appended while none was held
    /// (as the poll does meanwhile).
    /// </summary>
    private async Task ListenAsync(string connectionString, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"listen {Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
                Wake();
                while (!ct.IsCancellationRequested) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "The webhook dispatcher's LISTEN connection failed; it polls meanwhile and listens again in a second");
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>
    /// Ends the dispatcher's wait for its next poll, ends the waits of runs following a busy workspace (so a reading is taken
    /// of the events just committed, which settles one clock margin later), and tells the runs under way to look once more
    /// before they end.
    /// </summary>
    private void Wake()
    {
        Interlocked.Increment(ref _wakes);
        Interlocked.Exchange(ref _woken, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        try { _wake.Release(); }
        catch (SemaphoreFullException) { } // Already woken: one wake covers every notification before it.
    }

    private static async Task<bool> TryLock(NpgsqlConnection leader, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock($1)", leader);
        command.Parameters.Add(new NpgsqlParameter { Value = LockKey });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Starts a delivery run for every active subscription whose next attempt is due, and one for every dead letter a caller
    /// asked to replay; a run already under way is not started twice. The subscription table is read across workspaces:
    /// it is the dispatcher's work list (one small table), not an event table, and each run then reads its own workspace only.
    /// </summary>
    private async Task PollAsync(NpgsqlConnection leader, CancellationToken ct)
    {
        var due = new List<(string Tenant, Guid Id, long Replay)>();
        await using (var command = new NpgsqlCommand(
                         $"select tenant_id, id, 0::bigint from {WebhookSubscriptions.Table} where status = '{WebhookSubscription.Active}' " +
                         "and (next_attempt_at is null or next_attempt_at <= $1) " +
                         $"union all select tenant_id, subscription_id, seq_id from {WebhookSubscriptions.DeadLetterTable} where replay_requested_at is not null",
                         leader))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = DateTimeOffset.UtcNow });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) due.Add((reader.GetString(0), reader.GetGuid(1), reader.GetInt64(2)));
        }
        foreach (var key in due)
        {
            if (_running.ContainsKey(key) || WorkspaceId.FromTenantId(key.Tenant) is not { } workspace) continue;
            // The run starts only once it is listed: a run that ended before it was listed would otherwise remove nothing and
            // then be listed for good, and the subscription never be delivered on this node again (no error, no attempt).
            var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _running[key] = Task.Run(async () =>
            {
                await listed.Task;
                try
                {
                    if (key.Replay != 0) await ReplayAsync(workspace, key.Id, key.Replay, ct);
                    else
                    {
                        // A notification during the run, which this poll's wake did not start again (it was listed), may be of
                        // events the run had already stopped looking for: the run looks again, until none came during it.
                        long seen;
                        do seen = Interlocked.Read(ref _wakes);
                        while (await DeliverAsync(workspace, key.Id, ct) && Interlocked.Read(ref _wakes) != seen && !ct.IsCancellationRequested);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Webhook deliveries of subscription {Subscription} in workspace {Workspace} did not advance", key.Id, key.Tenant);
                }
                finally
                {
                    _running.TryRemove(key, out _);
                }
            }, CancellationToken.None);
            listed.SetResult();
        }
    }

    /// <summary>
    /// The highest sequence of the workspace known settled: the high-water mark, or what an earlier reading saw handed out
    /// once every transaction that could still hold one of those numbers has ended (<see cref="Settlement.SettledThrough"/>,
    /// the readings time travel settles by), never past what is handed out now; and how long until a next look could settle
    /// more (null: nothing is waiting to settle).
    /// </summary>
    /// <remarks>
    /// Every reading that saw more handed out than is settled is kept (up to <see cref="MaxReadings"/>), each with the
    /// moment it was taken: a reading settles one <see cref="Settlement.ClockMargin"/> after it (once the transactions open
    /// then have ended), so events seen by a reading are delivered one margin after that reading, not after the next
    /// reading that happens to come a margin later, as with a single anchor replaced only once it had settled.
    /// </remarks>
    private async Task<(long Settled, long Allocated, TimeSpan? Next)> SettledAsync(WorkspaceId workspace, CancellationToken ct)
    {
        var probe = await Settlement.ProbeAsync(data, RegistryStore.Schema, workspace, ct);
        var now = Stopwatch.GetTimestamp();
        var readings = _readings.GetOrAdd(workspace.TenantId, _ => new Readings());
        lock (readings)
        {
            // A reading above what is handed out now: the workspace's numbering restarted below it; it settles nothing.
            readings.RemoveAll(r => r.Probe.Allocated > probe.Allocated);
            var settled = probe.HighWaterMark;
            foreach (var r in readings) settled = Math.Max(settled, Settlement.SettledThrough(r.Probe, probe));
            readings.RemoveAll(r => r.Probe.Allocated <= settled);
            if (probe.Allocated > settled && readings.Count < MaxReadings && (readings.Count == 0 || probe.Allocated > readings[^1].Probe.Allocated))
                readings.Add(new Reading(probe, now));
            TimeSpan? next = readings.Count == 0
                ? null
                : TimeSpan.FromTicks(Math.Max(NextLook.Ticks, (Settlement.ClockMargin - Stopwatch.GetElapsedTime(readings[0].TakenAt, now)).Ticks));
            return (Math.Min(settled, probe.Allocated), probe.Allocated, next);
        }
    }

    /// <summary>A settlement reading and when it was taken (a stopwatch timestamp, after its clock was read).</summary>
    private sealed record Reading(SettlementProbe Probe, long TakenAt);

    private sealed class Readings : List<Reading>;

    /// <summary>
    /// Delivers the subscription's settled events from its cursor on. True when it stopped caught up (or after following a
    /// busy workspace for <see cref="FollowFor"/>), so a look again may find more; false when the subscription is not to be
    /// delivered now (paused, deleted, waiting for its next attempt, changed beside this run).
    /// </summary>
    private async Task<bool> DeliverAsync(WorkspaceId workspace, Guid id, CancellationToken ct)
    {
        if (await subscriptions.Find(workspace, id, ct) is not { Status: WebhookSubscription.Active } subscription) return false;
        if (subscription.NextAttemptAt is { } next && next > DateTimeOffset.UtcNow) return false;
        var woken = Volatile.Read(ref _woken).Task;
        var (settled, allocated, look) = await SettledAsync(workspace, ct);
        var target = new Uri(subscription.TargetUrl);
        var secret = subscriptions.Unprotect(subscription);
        var cursor = subscription.Cursor;
        var attempts = subscription.Attempts;
        var failingSince = subscription.FailingSince;
        var started = DateTimeOffset.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            if (settled <= cursor)
            {
                // Events handed out but not settled yet settle one clock margin after the reading that saw them: a look then
                // delivers them at once instead of at the next poll or wake (which would add up to a poll's interval to each
                // delivery's latency). A busy workspace keeps the run looking for up to FollowFor, then wakes and polls take over.
                if (allocated <= cursor || DateTimeOffset.UtcNow - started >= FollowFor) return true;
                // A wake (events just committed) ends the wait early: the reading it takes lets them settle a margin from now.
                await Task.WhenAny(Task.Delay(look ?? NextLook, ct), woken);
                ct.ThrowIfCancellationRequested();
                woken = Volatile.Read(ref _woken).Task;
                (settled, allocated, look) = await SettledAsync(workspace, ct);
                continue;
            }
            var events = await ReadAsync(workspace, subscription, cursor, settled, null, ct);
            if (events.Count == 0)
            {
                // Nothing of interest up to the settled point: the cursor skips it, so the next run starts there.
                if (!await MoveAsync(workspace, id, cursor, settled, ct)) return false;
                cursor = settled;
                continue;
            }
            var stored = cursor;
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                var deliveryId = CloudEventEnvelope.DeliveryId(id, e.Sequence);
                var outcome = await sender.SendAsync(target, deliveryId, CloudEventEnvelope.Write(deliveryId, e), secret, ct);
                if (outcome.Delivered)
                {
                    cursor = e.Sequence;
                    attempts = 0;
                    failingSince = null;
                    // In a backlog (a full batch) the cursor is stored every CursorEvery deliveries and at the batch's end rather
                    // than after each: a crash then sends at most that many again, with their ids (at least once).
                    if (events.Count == BatchSize && i < events.Count - 1 && (i + 1) % CursorEvery != 0) continue;
                    // Stops when the row was changed beside this run (reset, deleted) or paused meanwhile by a caller.
                    if (await DeliveredAsync(workspace, id, stored, cursor, ct) != WebhookSubscription.Active) return false;
                    stored = cursor;
                    continue;
                }
                // What was delivered before the failure is stored first: the failure is recorded at its own head of line.
                if (stored != cursor && await DeliveredAsync(workspace, id, stored, cursor, ct) != WebhookSubscription.Active) return false;
                attempts++;
                var now = DateTimeOffset.UtcNow;
                failingSince ??= now;
                if (outcome.Gone)
                {
                    await FailedAsync(workspace, id, cursor, attempts, failingSince.Value, null, outcome.Error, ct);
                    await subscriptions.Pause(workspace, id, $"The receiver answered 410 Gone to delivery {deliveryId} ({outcome.Error}).",
                        new CommandContext(Actor, deliveryId, deliveryId, null), ct);
                    logger.LogWarning("Webhook subscription {Subscription} paused: its receiver answered 410 Gone", id);
                    return false;
                }
                if (now - failingSince.Value >= options.RetryFor)
                {
                    if (!await DeadLetterAsync(workspace, id, cursor, e, attempts, outcome.Error, ct)) return false;
                    logger.LogWarning("Webhook delivery {Delivery} dead-lettered after {Attempts} attempts: {Error}", deliveryId, attempts, outcome.Error);
                    cursor = e.Sequence;
                    stored = cursor;
                    attempts = 0;
                    failingSince = null;
                    continue;
                }
                var wait = WebhookBackoff.Delay(attempts, options.InitialBackoff, options.MaxBackoff, Random.Shared.NextDouble());
                await FailedAsync(workspace, id, cursor, attempts, failingSince.Value, now + wait, outcome.Error, ct);
                return false;
            }
            if (events.Count < BatchSize)
            {
                if (!await MoveAsync(workspace, id, cursor, settled, ct)) return false;
                cursor = settled;
            }
        }
        return false;
    }

    /// <summary>One more try of a dead letter a caller asked to replay: delivered, it is gone; failed, it stays with the error.</summary>
    private async Task ReplayAsync(WorkspaceId workspace, Guid id, long sequence, CancellationToken ct)
    {
        if (await subscriptions.Find(workspace, id, ct) is not { } subscription) return;
        var events = await ReadAsync(workspace, subscription, sequence - 1, sequence, sequence, ct);
        var deliveryId = CloudEventEnvelope.DeliveryId(id, sequence);
        var outcome = events.Count == 1
            ? await sender.SendAsync(new Uri(subscription.TargetUrl), deliveryId, CloudEventEnvelope.Write(deliveryId, events[0]), subscriptions.Unprotect(subscription), ct)
            : new DeliveryOutcome(false, false, "the event is no longer in the store");
        await using var command = data.CreateCommand(outcome.Delivered
            ? $"delete from {WebhookSubscriptions.DeadLetterTable} where tenant_id = $1 and subscription_id = $2 and seq_id = $3"
            : $"update {WebhookSubscriptions.DeadLetterTable} set replay_requested_at = null, replay_error = $4, attempts = attempts + 1 " +
              "where tenant_id = $1 and subscription_id = $2 and seq_id = $3");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)outcome.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The subscription's events in (after, upTo] (or the one at <paramref name="only"/>), in order, by the pull feed's reader
    /// (one query for both): the delivered types it names, of its model if it names one, with each model's name as of the event.
    /// </summary>
    private async Task<List<DeliveredEvent>> ReadAsync(WorkspaceId workspace, WebhookSubscription subscription, long after, long upTo, long? only,
        CancellationToken ct)
    {
        var events = await feed.ReadAsync(workspace, after, upTo,
            new FeedFilter(subscription.EventTypes, subscription.ModelId is { } model ? [model] : null), BatchSize, ct);
        return only is { } one ? events.Where(e => e.Sequence == one).ToList() : events;
    }

    /// <summary>
    /// Every write of a cursor names the cursor it moves from: a row another writer reset (a test's reset, a deletion) is left
    /// alone, and the run stops.
    /// </summary>
    /// <remarks>
    /// Committed asynchronously (<c>synchronous_commit</c> off for this transaction only): the write waits for no WAL flush,
    /// which made it the dispatcher's bottleneck (a flush per delivery: about 250 deliveries a second on the benchmark machine,
    /// too slow to drain a long outage's backlog). A database crash can then lose the last fraction of a second of cursor
    /// moves, and those deliveries are sent again with the same ids: the at-least-once contract, as after a crash between a
    /// delivery and its cursor write. A crash of the registry loses nothing: the commit is visible at once.
    /// </remarks>
    private async Task<string?> DeliveredAsync(WorkspaceId workspace, Guid id, long from, long to, CancellationToken ct)
    {
        await using var batch = data.CreateBatch();
        // A batch runs in one implicit transaction, so the setting's is_local = true covers exactly the update.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select set_config('synchronous_commit', 'off', true)"));
        var update = new NpgsqlBatchCommand(
            $"update {WebhookSubscriptions.Table} set cursor = $4, attempts = 0, failing_since = null, next_attempt_at = null, last_error = null, " +
            "last_delivered_at = now() where tenant_id = $1 and id = $2 and cursor = $3 returning status");
        update.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        update.Parameters.Add(new NpgsqlParameter { Value = id });
        update.Parameters.Add(new NpgsqlParameter { Value = from });
        update.Parameters.Add(new NpgsqlParameter { Value = to });
        batch.BatchCommands.Add(update);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        return await reader.ReadAsync(ct) ? reader.GetString(0) : null;
    }

    /// <summary>Moves the cursor past events of no interest; false when the row was changed beside this run (the run stops).</summary>
    private async Task<bool> MoveAsync(WorkspaceId workspace, Guid id, long from, long to, CancellationToken ct) =>
        to <= from ||
        await ExecuteAsync($"update {WebhookSubscriptions.Table} set cursor = $4 where tenant_id = $1 and id = $2 and cursor = $3", workspace, id, from, ct, to) == 1;

    private Task<int> FailedAsync(WorkspaceId workspace, Guid id, long cursor, int attempts, DateTimeOffset failingSince, DateTimeOffset? next,
        string? error, CancellationToken ct) =>
        ExecuteAsync(
            $"update {WebhookSubscriptions.Table} set attempts = $4, failing_since = $5, next_attempt_at = $6, last_error = $7 " +
            "where tenant_id = $1 and id = $2 and cursor = $3", workspace, id, cursor, ct, attempts, failingSince,
            (object?)next ?? DBNull.Value, (object?)error ?? DBNull.Value);

    /// <summary>The dead letter and the cursor past it in one transaction, so a crash leaves neither without the other.</summary>
    private async Task<bool> DeadLetterAsync(WorkspaceId workspace, Guid id, long cursor, DeliveredEvent e, int attempts, string? error, CancellationToken ct)
    {
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var move = new NpgsqlCommand(
                         $"update {WebhookSubscriptions.Table} set cursor = $4, attempts = 0, failing_since = null, next_attempt_at = null, last_error = $5 " +
                         "where tenant_id = $1 and id = $2 and cursor = $3", connection, transaction))
        {
            AddKey(move, workspace, id, cursor);
            move.Parameters.Add(new NpgsqlParameter { Value = e.Sequence });
            move.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            if (await move.ExecuteNonQueryAsync(ct) != 1) return false;
        }
        await using (var insert = new NpgsqlCommand(
                         $"insert into {WebhookSubscriptions.DeadLetterTable} (tenant_id, subscription_id, seq_id, event_type, model_id, attempts, last_error) " +
                         "values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
            insert.Parameters.Add(new NpgsqlParameter { Value = id });
            insert.Parameters.Add(new NpgsqlParameter { Value = e.Sequence });
            insert.Parameters.Add(new NpgsqlParameter { Value = e.EventType });
            insert.Parameters.Add(new NpgsqlParameter { Value = e.ModelId });
            insert.Parameters.Add(new NpgsqlParameter { Value = attempts });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return true;
    }

    private async Task<int> ExecuteAsync(string sql, WorkspaceId workspace, Guid id, long cursor, CancellationToken ct, params object[] values)
    {
        await using var command = data.CreateCommand(sql);
        AddKey(command, workspace, id, cursor);
        foreach (var value in values)
            command.Parameters.Add(value is DBNull ? new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Unknown } : new NpgsqlParameter { Value = value });
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static void AddKey(NpgsqlCommand command, WorkspaceId workspace, Guid id, long cursor)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = cursor });
    }
}
