using System.Text.Json;
using EventSourcedRegistry.Idempotency;
using EventSourcedRegistry.Models;
using JasperFx;
using JasperFx.Events;
using Marten;

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
/// decide against the stream's state, append in one transaction, and on a lost race re-decide against
/// fresh state (bounded) unless the client pinned a revision with If-Match.
/// </summary>
public sealed class ModelCommands(IDocumentStore store, ILogger<ModelCommands> logger)
{
    private const int MaxAttempts = 25;

    public delegate ValueTask<Decision> Decide(ModelView model, IDocumentSession session, CancellationToken ct);
    public delegate ValueTask<CommandResponse> Respond(CommandOutcome outcome, CancellationToken ct);
    public delegate ValueTask<IResult?> BeforeSave(CommandOutcome outcome, CancellationToken ct);

    public async Task<IResult> Execute(HttpContext http, string modelName, object request, string? reason,
        Decide decide, Respond respond, BeforeSave? beforeSave = null)
    {
        var ct = http.RequestAborted;
        if (!Revisions.TryReadIfMatch(http.Request, out var expected))
            return Problems.Problem(400, "Malformed If-Match", "If-Match must carry one strong ETag as a read returned it, for example \"3\".");

        var idempotency = Idempotent.From(http, request);
        if (idempotency.Problem is not null) return idempotency.Problem;
        if (await idempotency.Replay(store, http, ct) is { } replayed) return replayed;

        var context = CommandContext.For(http, reason);
        Guid modelId;
        await using (var query = store.QuerySession())
        {
            var normalized = Validation.InputRules.NormalizeName(modelName);
            var index = await query.LoadAsync<ModelNameIndex>(normalized, ct);
            if (index is null) return Problems.ModelNotFound(modelName);
            modelId = index.ModelId;
        }

        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            context.ApplyTo(session);

            var stream = await session.Events.FetchForWriting<ModelView>(modelId, ct);
            var before = stream.Aggregate;
            if (before is null) return Problems.ModelNotFound(modelName);
            if (expected is { } pinned && pinned != stream.CurrentVersion)
                return Problems.StaleRevision(pinned, stream.CurrentVersion);

            var decision = await decide(before, session, ct);
            if (decision.Rejection is { } rejection) return Problems.From(rejection);

            var after = Clone(before);
            foreach (var @event in decision.Events) after = ModelView.Fold(after, @event);
            after.Revision = (stream.CurrentVersion ?? 0) + decision.Events.Count;

            var outcome = new CommandOutcome(before, after, decision.Events, session);
            if (!outcome.Changed)
            {
                var unchanged = await respond(outcome, ct);
                return Write(http, unchanged, after.Revision);
            }

            stream.AppendMany(decision.Events.ToArray());
            if (beforeSave is not null && await beforeSave(outcome, ct) is { } refused) return refused;

            var response = await respond(outcome, ct);
            idempotency.Remember(session, response, after.Revision);

            try
            {
                await session.SaveChangesAsync(ct);
                return Write(http, response, after.Revision);
            }
            catch (Exception ex) when (IsConcurrencyConflict(ex))
            {
                if (expected is { } stale) return Problems.StaleRevision(stale, null);
                if (attempt >= MaxAttempts)
                {
                    logger.LogWarning("Gave up on model {ModelId} after {Attempts} concurrency conflicts", modelId, attempt);
                    return Problems.Problem(409, "Too much contention",
                        $"Model '{modelName}' changed {attempt} times while this command was decided; retry it.");
                }
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), ct);
            }
            catch (DocumentAlreadyExistsException) when (idempotency.Key is not null)
            {
                if (await idempotency.Replay(store, http, ct) is { } raced) return raced;
                throw;
            }
        }
    }

    public static bool IsConcurrencyConflict(Exception ex) =>
        ex is ConcurrencyException ||
        ex.InnerException is { } inner && IsConcurrencyConflict(inner);

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

    private static ModelView Clone(ModelView view) =>
        JsonSerializer.Deserialize<ModelView>(JsonSerializer.SerializeToUtf8Bytes(view))!;
}
