using System.Collections.Concurrent;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Idempotency;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using JasperFx;
using JasperFx.Events;
using Marten;
using SessionOptions = Marten.Services.SessionOptions;
using Npgsql;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>What a command did, handed to the slice so it can say what the client gets back.</summary>
public sealed record CommandOutcome(ModelView Before, ModelView After, IReadOnlyList<object> Events, IDocumentSession Session)
{
    public bool Changed => Events.Count > 0;
}

/// <summary>The answer a command gives: status, JSON body, optional Location. Also what an idempotent retry replays.</summary>
public sealed record CommandResponse(int Status, object? Body, string? Location = null);

/// <summary>
/// The one way a command reaches a model's stream: resolve the name, honour If-Match and Idempotency-Key,
/// decide against the stream's state with the stream locked, append in one transaction; should a race still be lost
/// (the lock makes that rare), re-decide against fresh state (bounded) unless the client pinned a revision with If-Match.
/// </summary>
public sealed class ModelCommands(IDocumentStore documents, NpgsqlDataSource data, IdempotencySettings idempotencySettings, ILogger<ModelCommands> logger)
{
    private const int MaxAttempts = 25;
    private readonly bool _tracedSessions = documents.Options is StoreOptions { OpenTelemetry.TrackConnections: not JasperFx.OpenTelemetry.TrackLevel.None };

    /// <summary>This node's commands on one model reach PostgreSQL at most <see cref="ModelTurns.PerModel"/> at a time.</summary>
    public ModelTurns Turns { get; } = new();

    public delegate ValueTask<Decision> Decide(ModelView model, IDocumentSession session, CancellationToken ct);
    public delegate ValueTask<CommandResponse> Respond(CommandOutcome outcome, CancellationToken ct);
    public delegate ValueTask BeforeSave(CommandOutcome outcome, CancellationToken ct);

    /// <summary>A refusal: status, title and detail of the ProblemDetails it becomes.</summary>
    public sealed record Refusal(int Status, string Title, string Detail, IReadOnlyDictionary<string, object?>? Extensions = null)
    {
        public IResult ToResult() => Problems.Problem(Status, Title, Detail, Extensions);
        public static Refusal From(Rejection rejection) =>
            new(Problems.StatusOf(rejection.Kind), rejection.Title, rejection.Detail, rejection.Extensions);
    }

    /// <summary>What running a command on one model came to: a response at a revision, or a refusal.</summary>
    public sealed record Ran(CommandResponse? Response, long Revision, Refusal? Refused, bool Changed, bool ClaimTaken = false)
    {
        /// <summary>The model fetched by a cached id is no longer called by the requested name (renamed): look the name up again.</summary>
        internal bool NameMoved { get; init; }
    }

    /// <summary>
    /// Normalized name → model id, learned from the name index. A hit is only a guess: <see cref="Run"/> checks it
    /// against the normalized name of the model it fetches for writing (the stream's own state, in the command's
    /// transaction), and on a mismatch — the model was renamed, here or on another node — the entry is dropped and
    /// the name looked up again. Unknown names are never cached.
    /// </summary>
    private readonly ConcurrentDictionary<(string Workspace, string Name), Guid> _ids = new();
    private const int MaxCachedNames = 100_000;

    /// <param name="version">
    /// The model version the decision reads (its <see cref="ModelVersionView"/>), when the request names one: read in the
    /// same round trip as the stream's lock, so the decision's <c>LoadAsync</c> of it is served from the session.
    /// </param>
    public async Task<IResult> Execute(HttpContext http, string modelName, object request, string? reason,
        Decide decide, Respond respond, BeforeSave? beforeSave = null, int? version = null)
    {
        var ct = http.RequestAborted;
        var store = new WorkspaceStore(documents, http.Workspace());
        if (!Revisions.TryReadIfMatch(http.Request, out var expected))
            return Problems.Problem(400, "Malformed If-Match", "If-Match must carry one strong ETag as a read returned it, for example \"3\".");

        var idempotency = Idempotent.From(http, request, idempotencySettings);
        if (idempotency.Problem is not null) return idempotency.Problem;
        if (await idempotency.Replay(store, http, ct) is { } replayed) return replayed;

        var normalized = Validation.InputRules.NormalizeName(modelName);
        var cached = _ids.TryGetValue((store.Workspace.Slug, normalized), out var cachedId);
        var modelId = cached ? cachedId : await LookUp(store, normalized, ct);
        if (modelId is null) return Problems.ModelNotFound(modelName);

        var context = CommandContext.For(http, reason);
        // A policy taken from this node's copy is confirmed under the model's lock, before deciding (see WorkspacePolicies).
        var policy = PolicyResolution.RevisionToConfirm(http);
        var ran = await Run(store, modelId.Value, modelName, expected, context, idempotency, decide, respond, beforeSave, ct,
            verifyName: cached ? normalized : null, version: version, policyRevision: policy);
        if (ran.NameMoved)
        {
            _ids.TryRemove(new KeyValuePair<(string, string), Guid>((store.Workspace.Slug, normalized), modelId.Value));
            modelId = await LookUp(store, normalized, ct);
            if (modelId is null) return Problems.ModelNotFound(modelName);
            ran = await Run(store, modelId.Value, modelName, expected, context, idempotency, decide, respond, beforeSave, ct, version: version,
                policyRevision: policy);
        }
        // A claim taken concurrently may be this request's own Idempotency-Key, and a refusal or a no-op may be the
        // state the first send of this key left (it committed after the replay check above): then answer what that
        // request answered.
        if ((ran.ClaimTaken || ran.Refused is not null || !ran.Changed) && await idempotency.Replay(store, http, ct) is { } raced)
            return raced;
        return ran.Refused is { } refused ? refused.ToResult() : Write(http, ran.Response!, ran.Revision);
    }

    public Task<Guid?> ModelIdOf(WorkspaceId workspace, string modelName, CancellationToken ct) =>
        LookUp(new WorkspaceStore(documents, workspace), Validation.InputRules.NormalizeName(modelName), ct);

    /// <summary>The name index's answer for a normalized name, remembered for the next command.</summary>
    private async Task<Guid?> LookUp(WorkspaceStore store, string normalized, CancellationToken ct)
    {
        await using var query = store.QuerySession();
        var index = await query.LoadAsync<ModelNameIndex>(normalized, ct);
        if (index is null) return null;
        if (_ids.Count >= MaxCachedNames) _ids.Clear();
        _ids[(store.Workspace.Slug, normalized)] = index.ModelId;
        return index.ModelId;
    }

    /// <summary>
    /// Decides against the stream's state and appends in one transaction; on a lost race decides again against
    /// fresh state (bounded), unless <paramref name="expected"/> pins a revision, which makes the race a 412.
    /// </summary>
    /// <param name="policyRevision">
    /// The settings revision of a policy taken from this node's copy (<see cref="WorkspacePolicyFeature.Unconfirmed"/>): the
    /// workspace's settings are read in the batch that locks the stream, and a different revision throws
    /// <see cref="PolicyUnconfirmedException"/> before anything is decided or appended.
    /// </param>
    public async Task<Ran> Run(WorkspaceStore store, Guid modelId, string modelName, long? expected, CommandContext context, Idempotent? idempotency,
        Decide decide, Respond respond, BeforeSave? beforeSave, CancellationToken ct, string? verifyName = null, int? version = null,
        long? policyRevision = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            // Before the connection: a command waiting for the model's lock waits here, without holding one (see ModelTurns).
            using var turn = await Turns.Take(modelId, ct);
            // One connection for the whole attempt (fetch, the inline projections' loads, the write and the commit)
            // instead of a pool checkout per statement. With Marten's connection tracing on (OpenTelemetry), Marten opens
            // it itself: its tracing wrapper around a connection it was handed cannot begin the transaction that
            // FetchForExclusiveWriting needs (Marten 9 throws "does not implement ITransactionStarter"); the session
            // then holds the connection it opens for that transaction from the fetch to the commit, as here.
            await using var connection = _tracedSessions ? null : await data.OpenConnectionAsync(ct);
            await using var session = connection is null ? store.LightweightSession() : store.LightweightSession(SessionOptions.ForConnection(connection));
            context.ApplyTo(session);
            // A version document the decision reads (a promotion's, an edit's) stays in the session's identity map, so the
            // inline version-view projection folds the command's events into it without loading it again.
            session.UseIdentityMapFor<ModelVersionView>();

            // Exclusive: the stream's row is locked (select … for update, in the command's transaction) until commit,
            // so concurrent commands on one model, on any node, take turns instead of losing optimistic races and
            // deciding again (under heavy contention some ran out of attempts: 409 "Too much contention").
            var stream = version is null && policyRevision is null
                ? await session.Events.FetchForExclusiveWriting<ModelView>(modelId, ct)
                : await FetchLocked(session, modelId, version, policyRevision, store.Workspace, ct);
            var before = stream.Aggregate;
            if (verifyName is not null && before?.NormalizedName != verifyName) return new Ran(null, 0, null, false) { NameMoved = true };
            if (before is null) return new Ran(null, 0, new Refusal(404, "Model not found", Problems.NoSuchModel(modelName)), false);
            if (expected is { } pinned && pinned != stream.CurrentVersion)
                return new Ran(null, 0, Stale(pinned, stream.CurrentVersion), false);

            var decision = await decide(before, session, ct);
            if (decision.Rejection is { } rejection) return new Ran(null, 0, Refusal.From(rejection), false);

            var after = before.Copy();
            foreach (var @event in decision.Events) after = ModelView.Fold(after, @event);
            after.Revision = (stream.CurrentVersion ?? 0) + decision.Events.Count;

            var outcome = new CommandOutcome(before, after, decision.Events, session);
            if (!outcome.Changed) return new Ran(await respond(outcome, ct), after.Revision, null, false);

            // The registry-state projection starts from the state decided against instead of reading the model's last row.
            RegistryStateProjection.Decided(session, before, stream.CurrentVersion ?? 0);
            // And the transition-requests projection whether the model had a pending request (none: a move does not read them).
            EventSourcedRegistry.Approvals.TransitionRequestsViewProjection.Decided(session, before, stream.CurrentVersion ?? 0);
            stream.AppendMany(decision.Events.ToArray());
            if (beforeSave is not null) await beforeSave(outcome, ct);

            var response = await respond(outcome, ct);
            idempotency?.Remember(session, response, after.Revision);

            // Appending one event, every statement the write batch sends after the append names no partitioned table (the
            // views' rows take the event's sequence and time without reading it back, AppendedEventRow): they run on the
            // plans their connection keeps instead of being planned at each run (issue 17: planning was about 40 % of
            // PostgreSQL's time in a promotion). The lock and the append itself still plan for their one workspace.
            if (AppendedEventRow.AppendsOneEvent(session)) session.QueueSqlCommand(AppendedEventRow.GenericPlans);
            try
            {
                await session.SaveChangesAsync(ct);
                return new Ran(response, after.Revision, null, true);
            }
            catch (Exception ex) when (IsConcurrencyConflict(ex))
            {
                if (expected is { } stale) return new Ran(null, 0, Stale(stale, null), false);
                if (attempt >= MaxAttempts)
                {
                    logger.LogWarning("Gave up on model {ModelId} after {Attempts} concurrency conflicts", modelId, attempt);
                    return new Ran(null, 0, new Refusal(409, "Too much contention",
                        $"Model '{modelName}' changed {attempt} times while this command was decided; retry it."), false);
                }
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), ct);
            }
            catch (Exception ex) when (EventGaps.IsSequenceCollision(ex) && attempt < MaxAttempts)
            {
                // The event sequence fell behind the stored events (a crash of PostgreSQL, see EventGaps): the server
                // refused this transaction, so nothing was appended. Move the sequence on and decide again.
                logger.LogWarning("The event sequence was behind the stored events on model {ModelId}; repairing it and retrying", modelId);
                await EventGaps.RepairSequenceAsync(data, RegistryStore.Schema, store.Workspace, ct);
            }
            catch (DocumentAlreadyExistsException)
            {
                // A unique claim written with the events (a new name, an idempotency key) was taken meanwhile; nothing was appended.
                return new Ran(null, 0, new Refusal(409, "Claimed concurrently",
                    "Something this command claims (a model name or its Idempotency-Key) was claimed by a concurrent request; nothing was changed."),
                    false, ClaimTaken: true);
            }
        }
    }

    /// <summary>
    /// <see cref="IDocumentSession.Events"/>' <c>FetchForExclusiveWriting</c> with what the decision reads besides, as one
    /// batch: the lock and the model's view, the version's view (when the request names one) and the workspace's settings
    /// (when the request's policy is this node's copy, to confirm its revision), in one round trip. The batch's statements
    /// run in order, so they read with the stream already locked, as a load in the decision would. The transaction is
    /// begun first, so the lock is taken inside it whatever the batch does with its own begin.
    /// </summary>
    private static async Task<IEventStream<ModelView>> FetchLocked(IDocumentSession session, Guid modelId, int? version, long? policyRevision,
        WorkspaceId workspace, CancellationToken ct)
    {
        await session.BeginTransactionAsync(ct);
        var batch = session.CreateBatchQuery();
        var fetched = batch.Events.FetchForExclusiveWriting<ModelView>(modelId);
        // Into the session's identity map (UseIdentityMapFor above): the decision and the inline projection find it there.
        var loaded = version is { } number ? batch.Load<ModelVersionView>(ModelVersionView.Key(modelId, number)) : null;
        var settings = policyRevision is null ? null : batch.Load<RegistrySettings>(RegistrySettings.StreamId);
        await batch.Execute(ct);
        if (loaded is not null) await loaded;
        if (settings is not null)
        {
            var stored = (await settings)?.Revision ?? 0;
            if (stored != policyRevision) throw new PolicyUnconfirmedException(workspace, policyRevision!.Value, stored);
        }
        return await fetched;
    }

    private static Refusal Stale(long expected, long? actual) => new(StatusCodes.Status412PreconditionFailed, "Stale revision",
        actual is null
            ? $"If-Match names revision {expected}, but the model has changed since; read it again and retry."
            : $"If-Match names revision {expected}, but the model is at revision {actual}; read it again and retry.");

    /// <summary>
    /// The transaction lost a race on a stream, so nothing of it was stored and the command can be decided again: a
    /// version conflict, or two sessions starting one stream at once. Marten reports the second only sometimes as
    /// <see cref="Marten.Exceptions.ExistingStreamIdCollisionException"/>; its append function may also refuse with its
    /// own <c>MT003</c> (the stream's version is past the 0 the session expected) or PostgreSQL's unique violation on
    /// <c>mt_streams</c>, wrapped in a <see cref="Marten.Exceptions.MartenCommandException"/>.
    /// </summary>
    public static bool IsConcurrencyConflict(Exception ex) =>
        ex is ConcurrencyException or Marten.Exceptions.ExistingStreamIdCollisionException ||
        ex is Npgsql.PostgresException { SqlState: StreamVersionMismatch } ||
        ex is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation, TableName: { } table } && table.StartsWith("mt_streams", StringComparison.Ordinal) ||
        ex.InnerException is { } inner && IsConcurrencyConflict(inner);

    /// <summary>The SQLSTATE Marten's <c>mt_quick_append_events</c> raises when a stream is not at the expected version.</summary>
    private const string StreamVersionMismatch = "MT003";

    /// <summary>A unique index refused a row (a name claimed concurrently): Marten may wrap the PostgreSQL error.</summary>
    public static bool IsUniqueViolation(Exception ex) =>
        ex is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation } ||
        ex.InnerException is { } inner && IsUniqueViolation(inner);

    public static IResult Write(HttpContext http, CommandResponse response, long? revision)
    {
        if (revision is { } r) Revisions.Write(http.Response, r);
        if (response.Location is { } location) http.Response.Headers.Location = location;
        return response.Body is null ? Results.StatusCode(response.Status) : Results.Json(response.Body, Json.Options, statusCode: response.Status);
    }
}
