using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Validation;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Webhooks;

// Pause, resume, rotate and delete: each records its event in the workspace's access stream with the row's change, and
// takes an optional ?reason= into it, as revoking a key does.

public static class PauseSubscriptionEndpoint
{
    /// <summary>Stops deliveries (the cursor stays where it is); pausing a paused subscription changes nothing and records nothing.</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.SubscriptionInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverinePost("/api/v1/subscriptions/{id}/pause", OperationId = "PauseSubscription")]
    public static async Task<IResult> Post(string id, HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        if (SubscriptionChanges.Reason(http) is { Problem: { } bad }) return bad;
        var (found, problem) = await SubscriptionAccess.Resolve(id, http, subscriptions, models);
        if (problem is not null) return problem;
        var reason = SubscriptionChanges.Reason(http).Text;
        var context = CommandContext.For(http, reason);
        var paused = await subscriptions.Pause(http.Workspace(), found!.Id, reason ?? $"paused by {context.Actor}", context, http.RequestAborted);
        return paused is null ? SubscriptionAccess.NotFound(id) : Results.Json(SubscriptionAccess.Shown(paused), Json.Options);
    }
}

public static class ResumeSubscriptionEndpoint
{
    /// <summary>Deliveries go on from the cursor; a delivery that was waiting for its next attempt is tried at once.</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.SubscriptionInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverinePost("/api/v1/subscriptions/{id}/resume", OperationId = "ResumeSubscription")]
    public static async Task<IResult> Post(string id, HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        if (SubscriptionChanges.Reason(http) is { Problem: { } bad }) return bad;
        var (found, problem) = await SubscriptionAccess.Resolve(id, http, subscriptions, models);
        if (problem is not null) return problem;
        var resumed = await subscriptions.Resume(http.Workspace(), found!.Id, CommandContext.For(http, SubscriptionChanges.Reason(http).Text), http.RequestAborted);
        return resumed is null ? SubscriptionAccess.NotFound(id) : Results.Json(SubscriptionAccess.Shown(resumed), Json.Options);
    }
}

public static class RotateSubscriptionSecretEndpoint
{
    /// <summary>A new signing secret, shown this once; every delivery from now on is signed with it, and the old one signs nothing.</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.SubscriptionWithSecret>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverinePost("/api/v1/subscriptions/{id}/rotate-secret", OperationId = "RotateSubscriptionSecret")]
    public static async Task<IResult> Post(string id, HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        if (SubscriptionChanges.Reason(http) is { Problem: { } bad }) return bad;
        var (found, problem) = await SubscriptionAccess.Resolve(id, http, subscriptions, models);
        if (problem is not null) return problem;
        var rotated = await subscriptions.Rotate(http.Workspace(), found!.Id, CommandContext.For(http, SubscriptionChanges.Reason(http).Text), http.RequestAborted);
        return rotated is not { } made
            ? SubscriptionAccess.NotFound(id)
            : Results.Json(new Wire.SubscriptionWithSecret(made.Secret, SubscriptionAccess.Shown(made.Subscription)), Json.Options);
    }
}

public static class DeleteSubscriptionEndpoint
{
    /// <summary>Deletes the subscription and its dead letters; nothing more is delivered to its target.</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverineDelete("/api/v1/subscriptions/{id}", OperationId = "DeleteSubscription")]
    public static async Task<IResult> Delete(string id, HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        if (SubscriptionChanges.Reason(http) is { Problem: { } bad }) return bad;
        var (found, problem) = await SubscriptionAccess.Resolve(id, http, subscriptions, models);
        if (problem is not null) return problem;
        return await subscriptions.Delete(http.Workspace(), found!.Id, CommandContext.For(http, SubscriptionChanges.Reason(http).Text), http.RequestAborted)
            ? Results.NoContent()
            : SubscriptionAccess.NotFound(id);
    }
}

public static class SubscriptionChanges
{
    /// <summary>The <c>?reason=</c> a change records, checked as every reason is.</summary>
    public static (string? Text, IResult? Problem) Reason(HttpContext http)
    {
        var reason = http.Request.Query["reason"].ToString();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } bad) return (null, Problems.Validation([("reason", bad)]));
        return (reason.Length == 0 ? null : reason, null);
    }
}
