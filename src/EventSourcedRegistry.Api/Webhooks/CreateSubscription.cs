using Microsoft.AspNetCore.Mvc;
using System.Net;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Contracts.V1.Requests;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Webhooks;

public static class CreateSubscriptionEndpoint
{
    public const int MaxEventTypes = 50;

    public static IEnumerable<(string Field, string Error)> Check(CreateSubscription request, IReadOnlyList<string> delivered)
    {
        if (request.EventTypes is { Count: > MaxEventTypes }) yield return ("eventTypes", $"At most {MaxEventTypes} event types.");
        else
            for (var i = 0; i < (request.EventTypes?.Count ?? 0); i++)
                if (request.EventTypes![i] is not { } type || !delivered.Contains(type))
                    yield return ($"eventTypes[{i}]", $"Not a delivered event type; the types are {string.Join(", ", delivered)} (none named: all of them).");
        if (request.Model is not null && InputRules.CheckModelName(request.Model) is { } model) yield return ("model", model);
        if (request.StartAfterSequence is < 0) yield return ("startAfterSequence", "A sequence is a whole number from 0.");
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } reason) yield return ("reason", reason);
    }

    /// <summary>
    /// Subscribes a target to the workspace's model events (all delivered types, or those named; every model's, or one's),
    /// delivered after <c>startAfterSequence</c> (default: the newest sequence handed out now). The answer shows the signing
    /// secret this once; the registry keeps it encrypted and never shows it again (rotate for a new one). A target that is
    /// not http(s) or not public (loopback, link-local, private, …, or a name resolving to one) is refused with 422 unless
    /// <c>Registry:Webhooks:AllowedTargets</c> allows it. Admins subscribe to anything; a model's contributors to that model.
    /// </summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.SubscriptionWithSecret>(StatusCodes.Status201Created)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status422UnprocessableEntity)]
    [WolverinePost("/api/v1/subscriptions", OperationId = "CreateSubscription")]
    public static async Task<IResult> Post(CreateSubscription? request, HttpContext http, WebhookSubscriptions subscriptions, WebhookEventTypes types,
        WebhookOptions options, NpgsqlDataSource data)
    {
        var models = SubscriptionAccess.Models(http);
        if (!SubscriptionAccess.MayManageSome(http.User)) return SubscriptionAccess.Refused();
        if (request is null) return Problems.BodyRequired("{\"targetUrl\", \"eventTypes\"?, \"model\"?, \"startAfterSequence\"?, \"reason\"?}");
        var ct = http.RequestAborted;
        var allowed = AllowedTargets.Parse(options.AllowedTargets);
        var (target, urlProblem, refused) = WebhookTargetPolicy.CheckUrl(request.TargetUrl, allowed);
        var errors = Check(request, types.Names).ToList();
        if (urlProblem is not null && !refused) errors.Insert(0, ("targetUrl", urlProblem));
        if (errors.Count > 0) return Problems.Validation(errors);

        var workspace = http.Workspace();
        Guid? modelId = null;
        if (request.Model is { } name)
        {
            modelId = await models.ModelIdOf(workspace, name, ct);
            // A model the caller may not read is answered as one that does not exist: nothing tells of it.
            if (modelId is not { } id || !await ModelAccess.MayReadAsync(workspace, http.User, id, models, ct)) return Problems.ModelNotFound(name);
            if (!await SubscriptionAccess.MayWriteAsync(http.User, workspace, id, models, ct))
                return Problems.Problem(StatusCodes.Status403Forbidden, "Forbidden",
                    $"Subscribing to model '{name}' needs the contributor role for it (or the admin role).");
        }
        else if (!SubscriptionAccess.IsAdmin(http.User))
            return Problems.Problem(StatusCodes.Status403Forbidden, "Forbidden",
                "Only an admin subscribes to every model's events; name a model you contribute to (\"model\").");

        if (urlProblem is not null) return Unprocessable(urlProblem);
        if (await ResolvesOutside(target!, allowed, ct) is { } outside) return Unprocessable(outside);

        var allocated = (await Settlement.ProbeAsync(data, RegistryStore.Schema, workspace, ct)).Allocated;
        if (request.StartAfterSequence is { } after && after > allocated)
            return Unprocessable($"startAfterSequence {after} is in the future: the newest sequence of this workspace is {allocated}.");

        var eventTypes = (request.EventTypes ?? []).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var (created, secret) = await subscriptions.Create(workspace, target!, eventTypes, modelId, modelId is null ? null : request.Model,
            request.StartAfterSequence ?? allocated, CommandContext.For(http, request.Reason), ct);
        http.Response.Headers.Location = $"{http.Request.PathBase}/api/v1/subscriptions/{created.Id}";
        return Results.Json(new Wire.SubscriptionWithSecret(secret, SubscriptionAccess.Shown(created)), Json.Options, statusCode: StatusCodes.Status201Created);
    }

    private static IResult Unprocessable(string detail) =>
        Problems.Problem(StatusCodes.Status422UnprocessableEntity, "Target refused", detail);

    /// <summary>
    /// A name whose addresses include one the registry does not call is refused now (the sender checks the address it
    /// connects to again at every delivery); a name that does not resolve is refused too, since nothing could be delivered.
    /// </summary>
    private static async Task<string?> ResolvesOutside(Uri target, AllowedTargets allowed, CancellationToken ct)
    {
        var host = target.IdnHost.Trim('[', ']');
        if (allowed.AllowsHost(host) || IPAddress.TryParse(host, out _)) return null;
        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return $"The target's host {host} does not resolve.";
        }
        foreach (var address in addresses)
            if (WebhookTargetPolicy.Refusal(address, allowed) is { } kind)
                return WebhookTargetPolicy.NotPublic($"{host} (resolving to {address})", kind);
        return addresses.Length == 0 ? $"The target's host {host} does not resolve." : null;
    }
}
