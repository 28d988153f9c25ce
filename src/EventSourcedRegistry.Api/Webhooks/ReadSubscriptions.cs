using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Webhooks;

public static class ListSubscriptionsEndpoint
{
    /// <summary>The workspace's subscriptions the caller may manage (an admin: all; a model's contributor: those filtered to it), never a secret.</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.SubscriptionList>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status403Forbidden)]
    [WolverineGet("/api/v1/subscriptions", OperationId = "ListSubscriptions")]
    public static async Task<IResult> Get(HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        if (!SubscriptionAccess.MayManageSome(http.User)) return SubscriptionAccess.Refused();
        var workspace = http.Workspace();
        var shown = new List<Wire.SubscriptionInfo>();
        foreach (var subscription in await subscriptions.List(workspace, http.RequestAborted))
            if (await SubscriptionAccess.MayManageAsync(http.User, workspace, subscription, models, http.RequestAborted))
                shown.Add(SubscriptionAccess.Shown(subscription));
        return Results.Json(new Wire.SubscriptionList(shown), Json.Options);
    }
}

public static class GetSubscriptionEndpoint
{
    /// <summary>One subscription with its delivery state (cursor, attempts, next attempt, last error, dead letters).</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.SubscriptionInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound)]
    [WolverineGet("/api/v1/subscriptions/{id}", OperationId = "GetSubscription")]
    public static async Task<IResult> Get(string id, HttpContext http, WebhookSubscriptions subscriptions)
    {
        var models = SubscriptionAccess.Models(http);
        var (subscription, problem) = await SubscriptionAccess.Resolve(id, http, subscriptions, models);
        return problem ?? Results.Json(SubscriptionAccess.Shown(subscription!), Json.Options);
    }
}
