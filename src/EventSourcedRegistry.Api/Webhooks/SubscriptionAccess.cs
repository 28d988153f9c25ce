using System.Globalization;
using System.Security.Claims;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>
/// Who may manage a subscription: an admin of the workspace, any; a caller who may write a model (a contributor for it, or
/// registry-wide), the subscriptions filtered to that model. Every other subscription does not exist for the caller (404, the
/// answer for an unknown id), so its target, model and even its existence stay hidden. A caller who may write no model
/// at all is refused (403) before anything is read.
/// </summary>
public static class SubscriptionAccess
{
    /// <summary>
    /// The request's model lookup, from its services rather than as an endpoint parameter: an endpoint taking
    /// <see cref="ModelCommands"/> is described in OpenAPI as a model command (If-Match, Idempotency-Key, 409/412), which
    /// subscription routes are not.
    /// </summary>
    public static ModelCommands Models(HttpContext http) => http.RequestServices.GetRequiredService<ModelCommands>();

    public static bool IsAdmin(ClaimsPrincipal user) =>
        AccessClaims.GrantsOf(user).Any(g => g.RegistryWide && Roles.Implies(g.Role, Roles.Admin));

    /// <summary>Whether the caller may manage any subscription at all (admin, or contributor for some model).</summary>
    public static bool MayManageSome(ClaimsPrincipal user) =>
        AccessClaims.GrantsOf(user).Any(g => Roles.Implies(g.Role, Roles.Contributor));

    public static IResult Refused() => Problems.Problem(StatusCodes.Status403Forbidden, "Forbidden",
        "Webhook subscriptions are managed by the workspace's admins, and by a model's contributors for subscriptions filtered to that model.");

    /// <summary>Whether the caller may write the model (and so manage subscriptions filtered to it).</summary>
    public static async Task<bool> MayWriteAsync(ClaimsPrincipal user, WorkspaceId workspace, Guid modelId, ModelCommands models, CancellationToken ct)
    {
        var grants = AccessClaims.GrantsOf(user).Where(g => Roles.Implies(g.Role, Roles.Contributor)).ToList();
        if (grants.Any(g => g.RegistryWide || g.ModelId == modelId)) return true;
        foreach (var name in grants.Select(g => g.ModelName).OfType<string>().Distinct(StringComparer.Ordinal))
            if (await models.ModelIdOf(workspace, name, ct) == modelId) return true;
        return false;
    }

    public static async Task<bool> MayManageAsync(ClaimsPrincipal user, WorkspaceId workspace, WebhookSubscription subscription, ModelCommands models,
        CancellationToken ct) =>
        IsAdmin(user) || subscription.ModelId is { } model && await MayWriteAsync(user, workspace, model, models, ct);

    /// <summary>The subscription the route names, if the caller may manage it; else the answer (400 for an id that is not one, 404).</summary>
    public static async Task<(WebhookSubscription? Subscription, IResult? Problem)> Resolve(string id, HttpContext http, WebhookSubscriptions subscriptions,
        ModelCommands models)
    {
        if (!MayManageSome(http.User)) return (null, Refused());
        if (id.Length > 64 || !Guid.TryParse(id, CultureInfo.InvariantCulture, out var guid))
            return (null, Problems.Validation([("id", "A subscription id is a UUID, as the subscription's answer gives it.")]));
        var workspace = http.Workspace();
        var found = await subscriptions.Find(workspace, guid, http.RequestAborted);
        if (found is null || !await MayManageAsync(http.User, workspace, found, models, http.RequestAborted)) return (null, NotFound(id));
        return (found, null);
    }

    public static IResult NotFound(string id) =>
        Problems.Problem(StatusCodes.Status404NotFound, "Subscription not found", $"No webhook subscription has the id '{id}'.");

    public static Wire.SubscriptionInfo Shown(WebhookSubscription s) => new(s.Id, s.TargetUrl, s.EventTypes, s.ModelName, s.ModelId, s.Status,
        s.PausedReason, s.Cursor, s.Attempts, s.FailingSince, s.NextAttemptAt, s.LastError, s.LastDeliveredAt, s.DeadLetters, s.CreatedBy, s.CreatedAt);
}
