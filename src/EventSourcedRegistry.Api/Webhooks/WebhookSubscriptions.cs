using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Webhooks;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>A subscription as stored; its secret only as Data Protection's ciphertext.</summary>
public sealed record WebhookSubscription(
    string TenantId, Guid Id, string TargetUrl, IReadOnlyList<string> EventTypes, Guid? ModelId, string? ModelName, string ProtectedSecret,
    string Status, string? PausedReason, long Cursor, int Attempts, DateTimeOffset? FailingSince, DateTimeOffset? NextAttemptAt,
    string? LastError, DateTimeOffset? LastDeliveredAt, string CreatedBy, DateTimeOffset CreatedAt, int DeadLetters)
{
    public const string Active = "active";
    public const string Paused = "paused";
}

/// <summary>A delivery given up on after <see cref="WebhookOptions.RetryFor"/>; replayable.</summary>
public sealed record WebhookDeadLetter(long Sequence, string EventType, Guid ModelId, int Attempts, string? LastError, DateTimeOffset DeadAt,
    DateTimeOffset? ReplayRequestedAt, string? ReplayError);

/// <summary>
/// Webhook subscriptions: plain tables (<c>tenant_id</c> leading every key), since the dispatcher moves a subscription's
/// cursor and retry state at every delivery, which a document's whole-row rewrite would race with a caller's pause. Every
/// change a caller (or a receiver's 410) makes appends its event to the workspace's access stream in the same transaction
/// (<see cref="ApiKeys.AppendAsync"/>, as key changes do). The signing secret is kept encrypted with ASP.NET Core Data
/// Protection, whose key ring every node reads from the database (<see cref="WebConsole.DataProtectionKeys"/>): the
/// dispatcher must sign with it, so it cannot be a one-way hash as an API key's is.
/// </summary>
public sealed class WebhookSubscriptions(NpgsqlDataSource data, ApiKeys access, IDataProtectionProvider protection)
{
    public const string Table = RegistryStore.Schema + ".webhook_subscriptions";
    public const string DeadLetterTable = RegistryStore.Schema + ".webhook_dead_letters";

    public static readonly string CreateTablesSql = $"""
        create schema if not exists {RegistryStore.Schema};
        create table if not exists {Table} (
            tenant_id         text not null,
            id                uuid not null,
            target_url        text not null,
            event_types       text[] not null,
            model_id          uuid,
            model_name        text,
            secret            text not null,
            status            text not null,
            paused_reason     text,
            cursor            bigint not null,
            attempts          integer not null default 0,
            failing_since     timestamptz,
            next_attempt_at   timestamptz,
            last_error        text,
            last_delivered_at timestamptz,
            created_by        text not null,
            created_at        timestamptz not null default now(),
            primary key (tenant_id, id)
        );
        create table if not exists {DeadLetterTable} (
            tenant_id           text not null,
            subscription_id     uuid not null,
            seq_id              bigint not null,
            event_type          text not null,
            model_id            uuid not null,
            attempts            integer not null,
            last_error          text,
            dead_at             timestamptz not null default now(),
            replay_requested_at timestamptz,
            replay_error        text,
            primary key (tenant_id, subscription_id, seq_id)
        );
        """;

    private IDataProtector Protector => protection.CreateProtector("EventSourcedRegistry.Webhooks.Secret.v1");

    public string Unprotect(WebhookSubscription subscription) => Protector.Unprotect(subscription.ProtectedSecret);

    private const string Columns =
        "s.tenant_id, s.id, s.target_url, s.event_types, s.model_id, s.model_name, s.secret, s.status, s.paused_reason, s.cursor, s.attempts, " +
        "s.failing_since, s.next_attempt_at, s.last_error, s.last_delivered_at, s.created_by, s.created_at, " +
        $"(select count(*)::int from {DeadLetterTable} d where d.tenant_id = s.tenant_id and d.subscription_id = s.id)";

    public static WebhookSubscription Read(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetGuid(1), r.GetString(2), r.GetFieldValue<string[]>(3), r.IsDBNull(4) ? null : r.GetGuid(4),
        r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.GetInt64(9),
        r.GetInt32(10), Time(r, 11), Time(r, 12), r.IsDBNull(13) ? null : r.GetString(13), Time(r, 14), r.GetString(15),
        r.GetFieldValue<DateTimeOffset>(16), r.GetInt32(17));

    private static DateTimeOffset? Time(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);

    /// <summary>Stores a new, active subscription with a new secret and appends its event in one transaction; the secret is returned this once.</summary>
    public async Task<(WebhookSubscription Subscription, string Secret)> Create(WorkspaceId workspace, Uri target, IReadOnlyList<string> eventTypes,
        Guid? modelId, string? modelName, long startAfter, CommandContext context, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var secret = WebhookSignature.NewSecret();
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand(
                         $"insert into {Table} (tenant_id, id, target_url, event_types, model_id, model_name, secret, status, cursor, created_by) " +
                         "values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
            insert.Parameters.Add(new NpgsqlParameter { Value = id });
            insert.Parameters.Add(new NpgsqlParameter { Value = target.AbsoluteUri });
            insert.Parameters.Add(new NpgsqlParameter { Value = eventTypes.ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)modelId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)modelName ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = Protector.Protect(secret) });
            insert.Parameters.Add(new NpgsqlParameter { Value = WebhookSubscription.Active });
            insert.Parameters.Add(new NpgsqlParameter { Value = startAfter });
            insert.Parameters.Add(new NpgsqlParameter { Value = context.Actor });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await access.AppendAsync(transaction, workspace, context, ct,
            new WebhookSubscriptionCreated(id, target.AbsoluteUri, eventTypes, modelId, modelName, startAfter));
        await transaction.CommitAsync(ct);
        return ((await Find(workspace, id, ct))!, secret);
    }

    public async Task<WebhookSubscription?> Find(WorkspaceId workspace, Guid id, CancellationToken ct)
    {
        await using var command = data.CreateCommand($"select {Columns} from {Table} s where s.tenant_id = $1 and s.id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<WebhookSubscription>> List(WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = data.CreateCommand($"select {Columns} from {Table} s where s.tenant_id = $1 order by s.created_at, s.id");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var list = new List<WebhookSubscription>();
        while (await reader.ReadAsync(ct)) list.Add(Read(reader));
        return list;
    }

    /// <summary>
    /// Changes one subscription in a transaction that holds its row, and appends the event <paramref name="change"/> returns
    /// (null: nothing changes, nothing is appended). Null when there is no such subscription.
    /// </summary>
    public async Task<WebhookSubscription?> Change(WorkspaceId workspace, Guid id, CommandContext context,
        Func<WebhookSubscription, (string Sql, object[] Values, object Event)?> change, CancellationToken ct)
    {
        await using (var connection = await data.OpenConnectionAsync(ct))
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            WebhookSubscription? current;
            await using (var select = new NpgsqlCommand($"select {Columns} from {Table} s where s.tenant_id = $1 and s.id = $2 for update", connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
                select.Parameters.Add(new NpgsqlParameter { Value = id });
                await using var reader = await select.ExecuteReaderAsync(ct);
                current = await reader.ReadAsync(ct) ? Read(reader) : null;
            }
            if (current is null) return null;
            if (change(current) is not { } made) return current;
            // $1 and $2 are always the subscription's key; the change's values follow.
            await using (var update = new NpgsqlCommand(made.Sql, connection, transaction))
            {
                update.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
                update.Parameters.Add(new NpgsqlParameter { Value = id });
                foreach (var value in made.Values) update.Parameters.Add(new NpgsqlParameter { Value = value });
                await update.ExecuteNonQueryAsync(ct);
            }
            await access.AppendAsync(transaction, workspace, context, ct, made.Event);
            await transaction.CommitAsync(ct);
        }
        return await Find(workspace, id, ct) ?? Deleted;
    }

    /// <summary>What <see cref="Change"/> answers for a subscription its change deleted.</summary>
    public static readonly WebhookSubscription Deleted = new("", Guid.Empty, "", [], null, null, "", "deleted", null, 0, 0, null, null, null, null, "",
        DateTimeOffset.MinValue, 0);

    public Task<WebhookSubscription?> Pause(WorkspaceId workspace, Guid id, string reason, CommandContext context, CancellationToken ct) =>
        Change(workspace, id, context, s => s.Status == WebhookSubscription.Paused ? null
            : ($"update {Table} set status = '{WebhookSubscription.Paused}', paused_reason = $3 where tenant_id = $1 and id = $2", [reason],
                new WebhookSubscriptionPaused(id, reason)), ct);

    /// <summary>Resumes from the cursor; a delivery that was waiting for its retry is tried at once, its retry window starting again.</summary>
    public Task<WebhookSubscription?> Resume(WorkspaceId workspace, Guid id, CommandContext context, CancellationToken ct) =>
        Change(workspace, id, context, s => s.Status == WebhookSubscription.Active ? null
            : ($"update {Table} set status = '{WebhookSubscription.Active}', paused_reason = null, attempts = 0, failing_since = null, " +
               "next_attempt_at = null where tenant_id = $1 and id = $2", [], new WebhookSubscriptionResumed(id)), ct);

    public async Task<(WebhookSubscription Subscription, string Secret)?> Rotate(WorkspaceId workspace, Guid id, CommandContext context, CancellationToken ct)
    {
        var secret = WebhookSignature.NewSecret();
        var changed = await Change(workspace, id, context, _ =>
            ($"update {Table} set secret = $3 where tenant_id = $1 and id = $2", [Protector.Protect(secret)], new WebhookSecretRotated(id)), ct);
        return changed is null ? null : (changed, secret);
    }

    public async Task<bool> Delete(WorkspaceId workspace, Guid id, CommandContext context, CancellationToken ct) =>
        await Change(workspace, id, context, s =>
            ($"with gone as (delete from {DeadLetterTable} where tenant_id = $1 and subscription_id = $2) delete from {Table} where tenant_id = $1 and id = $2",
                [], new WebhookSubscriptionDeleted(id, s.TargetUrl)), ct) is not null;

    public async Task<IReadOnlyList<WebhookDeadLetter>> DeadLetters(WorkspaceId workspace, Guid id, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            "select seq_id, event_type, model_id, attempts, last_error, dead_at, replay_requested_at, replay_error " +
            $"from {DeadLetterTable} where tenant_id = $1 and subscription_id = $2 order by seq_id");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var list = new List<WebhookDeadLetter>();
        while (await reader.ReadAsync(ct))
            list.Add(new WebhookDeadLetter(reader.GetInt64(0), reader.GetString(1), reader.GetGuid(2), reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), Time(reader, 6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        return list;
    }

    /// <summary>
    /// Marks dead letters (one sequence, or all when null) for the dispatcher to deliver again, and appends
    /// <see cref="WebhookDeliveriesReplayed"/> naming them; the sequences marked (none: nothing appended).
    /// </summary>
    public async Task<IReadOnlyList<long>?> Replay(WorkspaceId workspace, Guid id, long? sequence, CommandContext context, CancellationToken ct)
    {
        List<long> marked = [];
        var found = await Find(workspace, id, ct);
        if (found is null) return null;
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var update = new NpgsqlCommand(
                         $"update {DeadLetterTable} set replay_requested_at = now(), replay_error = null " +
                         "where tenant_id = $1 and subscription_id = $2 and ($3::bigint is null or seq_id = $3) returning seq_id", connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
            update.Parameters.Add(new NpgsqlParameter { Value = id });
            update.Parameters.Add(new NpgsqlParameter { Value = (object?)sequence ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
            await using var reader = await update.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) marked.Add(reader.GetInt64(0));
        }
        if (marked.Count == 0) return marked;
        marked.Sort();
        await access.AppendAsync(transaction, workspace, context, ct, new WebhookDeliveriesReplayed(id, marked));
        await transaction.CommitAsync(ct);
        return marked;
    }
}

/// <summary>Creates the webhook tables at start-up, after Marten has applied its schema.</summary>
public sealed class WebhookTables(NpgsqlDataSource data) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var command = data.CreateCommand(WebhookSubscriptions.CreateTablesSql);
        try { await command.ExecuteNonQueryAsync(ct); }
        // Two nodes starting together both create them: the loser's duplicate is the winner's table.
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable) { }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
