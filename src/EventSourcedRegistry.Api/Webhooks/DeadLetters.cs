using Microsoft.AspNetCore.Mvc;
using System.Globalization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Webhooks;

public static class ListDeadLettersEndpoint
{
    /// <summary>The deliveries given up on after the retry window, oldest sequence first, with their last error.</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.DeadLetterList>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverineGet("/api/v1/subscriptions/{id}/dead-letters", OperationId = "ListDeadLetters")]
    public static async Task<IResult> Get(string id, HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        var (found, problem) = await SubscriptionAccess.Resolve(id, http, subscriptions, models);
        if (problem is not null) return problem;
        var letters = await subscriptions.DeadLetters(http.Workspace(), found!.Id, http.RequestAborted);
        return Results.Json(new Wire.DeadLetterList(letters.Select(d => new Wire.DeadLetterInfo(d.Sequence, d.EventType, d.ModelId, d.Attempts, d.LastError,
            d.DeadAt, d.ReplayRequestedAt, d.ReplayError)).ToList()), Json.Options);
    }
}

public static class ReplayDeadLetterEndpoint
{
    /// <summary>
    /// Delivers one dead letter again (same delivery id, signed with the current secret), once, out of order: 202 and the
    /// dispatcher sends it shortly; delivered, it leaves the list; failed, it stays with the error.
    /// </summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.ReplayAccepted>(StatusCodes.Status202Accepted)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverinePost("/api/v1/subscriptions/{id}/dead-letters/{sequence}/replay", OperationId = "ReplayDeadLetter")]
    public static async Task<IResult> Post(string id, string sequence, HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        if (sequence.Length > 19 || !long.TryParse(sequence, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return Problems.Validation([("sequence", "A dead letter is named by its event's sequence: a whole number from 0.")]);
        return await DeadLetterReplay.Replay(id, number, http, subscriptions, models);
    }
}

public static class ReplayDeadLettersEndpoint
{
    /// <summary>Delivers every dead letter of the subscription again (see the single replay).</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.ReplayAccepted>(StatusCodes.Status202Accepted)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverinePost("/api/v1/subscriptions/{id}/dead-letters/replay", OperationId = "ReplayDeadLetters")]
    public static Task<IResult> Post(string id, HttpContext http, WebhookSubscriptions subscriptions) =>
        DeadLetterReplay.Replay(id, null, http, subscriptions, SubscriptionAccess.Models(http));
}

public static class DeadLetterReplay
{
    public static async Task<IResult> Replay(string id, long? sequence, HttpContext http, WebhookSubscriptions subscriptions, ModelCommands models)
    {
        if (SubscriptionChanges.Reason(http) is { Problem: { } bad }) return bad;
        var (found, problem) = await SubscriptionAccess.Resolve(id, http, subscriptions, models);
        if (problem is not null) return problem;
        var marked = await subscriptions.Replay(http.Workspace(), found!.Id, sequence, CommandContext.For(http, SubscriptionChanges.Reason(http).Text),
            http.RequestAborted);
        if (marked is null) return SubscriptionAccess.NotFound(id);
        if (sequence is { } one && marked.Count == 0)
            return Problems.Problem(StatusCodes.Status404NotFound, "Dead letter not found", $"Subscription {id} has no dead letter at sequence {one}.");
        return Results.Json(new Wire.ReplayAccepted(marked), Json.Options, statusCode: StatusCodes.Status202Accepted);
    }
}
