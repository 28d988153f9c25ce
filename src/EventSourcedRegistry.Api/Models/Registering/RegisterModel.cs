using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using JasperFx;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Models.Registering;

public static class RegisterModelEndpoint
{
    public static IEnumerable<(string Field, string Error)> Check(RegisterModel request)
    {
        if (InputRules.CheckModelName(request.Name) is { } name) yield return ("name", name);
        if (InputRules.CheckText(request.Description, InputRules.MaxDescriptionLength, "A description") is { } description)
            yield return ("description", description);
        foreach (var error in InputRules.CheckTags(request.Tags, "tags")) yield return error;
    }

    /// <summary>
    /// Starts the model's stream and claims its name in one transaction: of concurrent registrations of one
    /// name exactly one commits; the others fail on the name index's primary key and get 409.
    /// </summary>
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelInfo>(StatusCodes.Status201Created)]
    [ReadsIdempotencyKey]
    [ProducesProblems(StatusCodes.Status409Conflict, StatusCodes.Status422UnprocessableEntity)]
    [RequestExample("""{"name": "churn-predictor", "description": "Predicts customer churn", "tags": {"team": "growth"}}""")]
    [WolverinePost("/api/v1/models", OperationId = "RegisterModel")]
    public static async Task<IResult> Post(RegisterModel? request, HttpContext http, WorkspaceStore store, IdempotencySettings idempotencySettings,
        RecordLimits limits)
    {
        if (request is null) return Problems.BodyRequired("{\"name\", \"description\"?, \"tags\"?}");
        var errors = Check(request).ToList();
        if (limits.CheckModelTags(request.Tags?.Count ?? 0) is { } tooMany) errors.Add(tooMany);
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        var idempotency = Idempotent.From(http, request, idempotencySettings);
        if (idempotency.Problem is not null) return idempotency.Problem;
        if (await idempotency.Replay(store, http, ct) is { } replayed) return replayed;

        var name = request.Name!;
        var normalized = InputRules.NormalizeName(name);
        await using var session = store.LightweightSession();
        // The name may be taken by the first send of this very key, committed since the replay check above.
        if (await session.LoadAsync<ModelNameIndex>(normalized, ct) is not null)
            return await idempotency.Replay(store, http, ct) ?? NameTaken(name);

        var context = CommandContext.For(http, reason: null);
        context.ApplyTo(session);

        var decision = Start(session, name, request.Description, request.Tags);

        var view = decision.Events.Aggregate((ModelView?)null, (state, e) => ModelView.Fold(state, e))!;
        view.Revision = decision.Events.Count;
        var response = new CommandResponse(StatusCodes.Status201Created, view, $"/api/v1/models/{Uri.EscapeDataString(name)}");
        idempotency.Remember(session, response, view.Revision);

        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (IsNameTaken(ex))
        {
            if (await idempotency.Replay(store, http, ct) is { } raced) return raced;
            return NameTaken(name);
        }
        return ModelCommands.Write(http, response, view.Revision);
    }

    /// <summary>
    /// A new model in <paramref name="session"/>: its stream, started with the registration's events, and its name's claim,
    /// committed together by the caller's save (the MLflow door registers through this too).
    /// </summary>
    public static Decision Start(IDocumentSession session, string name, string? description, IReadOnlyDictionary<string, string>? tags)
    {
        var modelId = Guid.CreateVersion7();
        var decision = ModelDecisions.Register(modelId, name, description, tags);
        session.Events.StartStream<ModelView>(modelId, decision.Events.ToArray());
        session.Insert(new ModelNameIndex { Id = InputRules.NormalizeName(name), ModelId = modelId });
        return decision;
    }

    /// <summary>The save of <see cref="Start"/> failed because a concurrent registration claimed the name first.</summary>
    public static bool IsNameTaken(Exception ex) =>
        !EventSourcedRegistry.Store.EventGaps.IsSequenceCollision(ex) && (ex is DocumentAlreadyExistsException || ModelCommands.IsUniqueViolation(ex));

    private static IResult NameTaken(string name) =>
        Problems.Problem(StatusCodes.Status409Conflict, "Name taken",
            $"A model named '{name}' already exists (names are unique regardless of case).");
}
