using EventSourcedRegistry.Api.Feed;
using System.Collections.Concurrent;
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

    private readonly ConcurrentDictionary<(string Tenant, Guid Id, long Replay), Task> _running = new();
    private readonly ConcurrentDictionary<string, SettlementProbe> _anchors = new(StringComparer.Ordinal);

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
                _anchors.Clear();
                logger.LogInformation("This node delivers the webhooks (webhook dispatcher lock taken)");
                while (!ct.IsCancellationRequested)
                {
                    await PollAsync(leader, ct);
                    await Task.Delay(options.Poll, ct);
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
                    if (key.Replay == 0) await DeliverAsync(workspace, key.Id, ct);
                    else await ReplayAsync(workspace, key.Id, key.Replay, ct);
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
    /// the readings time travel settles by), never past what is handed out now.
    /// </summary>
    private async Task<(long Settled, long Allocated)> SettledAsync(WorkspaceId workspace, CancellationToken ct)
    {
        var probe = await Settlement.ProbeAsync(data, RegistryStore.Schema, workspace, ct);
        long settled;
        if (_anchors.TryGetValue(workspace.TenantId, out var anchor) && probe.Allocated >= anchor.Allocated)
        {
            settled = Settlement.SettledThrough(anchor, probe);
            // A new anchor once the old one has done its part, so a steady stream of appends keeps settling.
            if (settled >= anchor.Allocated) _anchors[workspace.TenantId] = probe;
        }
        else
        {
            // None yet, or the workspace's numbering restarted below it: only the mark counts until the next reading.
            settled = probe.HighWaterMark;
            _anchors[workspace.TenantId] = probe;
        }
        return (Math.Min(settled, probe.Allocated), probe.Allocated);
    }

    private async Task DeliverAsync(WorkspaceId workspace, Guid id, CancellationToken ct)
    {
        if (await subscriptions.Find(workspace, id, ct) is not { Status: WebhookSubscription.Active } subscription) return;
        if (subscription.NextAttemptAt is { } next && next > DateTimeOffset.UtcNow) return;
        var (settled, allocated) = await SettledAsync(workspace, ct);
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
                // Events handed out but not settled yet settle one clock margin after the reading that saw them: a second
                // look then delivers them at once instead of at the next poll (which would add up to a poll's interval to
                // each delivery's latency). A busy workspace keeps the run looking for up to FollowFor, then polls take over.
                if (allocated <= cursor || DateTimeOffset.UtcNow - started >= FollowFor) return;
                await Task.Delay(Settlement.ClockMargin, ct);
                (settled, allocated) = await SettledAsync(workspace, ct);
                continue;
            }
            var events = await ReadAsync(workspace, subscription, cursor, settled, null, ct);
            if (events.Count == 0)
            {
                // Nothing of interest up to the settled point: the cursor skips it, so the next run starts there.
                if (!await MoveAsync(workspace, id, cursor, settled, ct)) return;
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
                    if (await DeliveredAsync(workspace, id, stored, cursor, ct) != WebhookSubscription.Active) return;
                    stored = cursor;
                    continue;
                }
                // What was delivered before the failure is stored first: the failure is recorded at its own head of line.
                if (stored != cursor && await DeliveredAsync(workspace, id, stored, cursor, ct) != WebhookSubscription.Active) return;
                attempts++;
                var now = DateTimeOffset.UtcNow;
                failingSince ??= now;
                if (outcome.Gone)
                {
                    await FailedAsync(workspace, id, cursor, attempts, failingSince.Value, null, outcome.Error, ct);
                    await subscriptions.Pause(workspace, id, $"The receiver answered 410 Gone to delivery {deliveryId} ({outcome.Error}).",
                        new CommandContext(Actor, deliveryId, deliveryId, null), ct);
                    logger.LogWarning("Webhook subscription {Subscription} paused: its receiver answered 410 Gone", id);
                    return;
                }
                if (now - failingSince.Value >= options.RetryFor)
                {
                    if (!await DeadLetterAsync(workspace, id, cursor, e, attempts, outcome.Error, ct)) return;
                    logger.LogWarning("Webhook delivery {Delivery} dead-lettered after {Attempts} attempts: {Error}", deliveryId, attempts, outcome.Error);
                    cursor = e.Sequence;
                    stored = cursor;
                    attempts = 0;
                    failingSince = null;
                    continue;
                }
                var wait = WebhookBackoff.Delay(attempts, options.InitialBackoff, options.MaxBackoff, Random.Shared.NextDouble());
                await FailedAsync(workspace, id, cursor, attempts, failingSince.Value, now + wait, outcome.Error, ct);
                return;
            }
            if (events.Count < BatchSize)
            {
                if (!await MoveAsync(workspace, id, cursor, settled, ct)) return;
                cursor = settled;
            }
        }
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
