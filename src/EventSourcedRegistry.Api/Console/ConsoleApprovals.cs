using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Approvals;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Contracts.V1.Requests;
using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// One pending request as the inbox shows it: the API's read of it, the gates its version does not meet yet, and what
/// the signed-in key may do with it (asked of the server's own decisions, never restated here).
/// </summary>
public sealed record InboxItem(Wire.TransitionRequestInfo Request, IReadOnlyList<UnmetGate> UnmetGates, bool MayApprove, bool MayReject,
    string? WhyNot);

/// <summary>The inbox: its requests, and whether more models wait than it shows.</summary>
public sealed record Inbox(IReadOnlyList<InboxItem> Items, bool More);

/// <summary>
/// The approvals inbox (issue 15, Build 4) through the API's own approval endpoints, called in process: the pending
/// requests come from <c>GET /api/v1/models/{name}/requests?state=pending</c>, the decisions go to
/// <c>POST …/requests/{id}/approve</c> and <c>…/reject</c>, each first authorized by the same policy (<c>registry:approve</c>,
/// judged for the model as for the API). Whether to offer Approve is the endpoint's own decision run without appending
/// (<see cref="ApproveTransitionRequestEndpoint.Decide"/>): four eyes, the artifact's digest and, for the last approval,
/// the transition's gates say no here exactly where they would say no to the POST.
/// </summary>
public sealed class ConsoleApprovals(IAuthorizationService authorization, ConsoleReads reads, WorkspacePolicies policies, TimeProvider time)
{
    /// <summary>The most models with pending requests one inbox page shows (in name order).</summary>
    public const int MaxModels = 100;

    /// <summary>Whether the key holds the approver role anywhere in this workspace (for the navigation's link).</summary>
    public static bool MayApproveAnything(HttpContext http) =>
        AccessClaims.GrantsOf(http.User).Any(g => Roles.Implies(g.Role, Roles.Approver));

    /// <summary>The pending requests of every model the key may approve for, newest first.</summary>
    public async Task<Inbox> Read(HttpContext http)
    {
        if (!MayApproveAnything(http)) return new Inbox([], false);
        var ct = http.RequestAborted;
        var store = http.RequestServices.GetRequiredService<WorkspaceStore>();
        IReadOnlyList<ModelView> candidates;
        if ((await authorization.AuthorizeAsync(http.User, null, Policies.Approve)).Succeeded)
        {
            // Only the model views say what is pending across models (as for `esr requests list`); raw SQL gets no tenant
            // filter from Marten, so the workspace's own rows are named.
            await using var session = store.QuerySession();
            candidates = await session.QueryAsync<ModelView>(
                $"select d.data from {RegistryTables.ModelView} as d where d.tenant_id = ? and jsonb_array_length(d.data -> 'pendingRequests') > 0 " +
                $"order by d.normalized_name limit {MaxModels + 1}", ct, store.Workspace.TenantId);
        }
        else
        {
            // A key scoped to models: the models its grants name, and no other (not even a count of them).
            candidates = (await reads.GrantedModels(http)).Where(m => m.PendingRequests.Count > 0).Take(MaxModels + 1).ToList();
        }

        var policy = await policies.ForAsync(http.Workspace(), ct);
        var approver = AccessClaims.PrincipalOf(http.User)!;
        var now = time.GetUtcNow();
        var items = new List<InboxItem>();
        await using var query = store.QuerySession();
        foreach (var model in candidates.Take(MaxModels))
        {
            // The API's judgement of this key for this model: a model it may only read, or not at all, is left out.
            if (!await MayDecide(http, model.Name)) continue;
            var answer = await ConsoleReads.Answer<Wire.TransitionRequestList>(http,
                Request(http, HttpMethods.Get, $"/api/v1/models/{Uri.EscapeDataString(model.Name)}/requests",
                    new Dictionary<string, StringValues> { ["state"] = RequestStates.Pending, ["limit"] = "100" }, model.Name),
                sub => ListTransitionRequestsEndpoint.Get(model.Name, sub, store, http.RequestServices.GetRequiredService<NpgsqlDataSource>(),
                    policy.Approvals, time));
            if (answer.Value is null) continue;
            var versions = (await query.LoadManyAsync<ModelVersionView>(ct,
                answer.Value.Items.Select(r => ModelVersionView.Key(model.Id, r.Version)).Distinct().ToArray())).ToDictionary(v => v.VersionNumber);
            foreach (var request in answer.Value.Items)
            {
                if (!versions.TryGetValue(request.Version, out var version)) continue;
                var unmet = request.Kind == TransitionKinds.Stage ? StageGates.Check(policy.Lifecycle.GatesFor(request.Target), version) : [];
                var approval = ApproveTransitionRequestEndpoint.Decide(model, version, policy.Lifecycle, policy.Approvals, request.Id, approver,
                    null, null, now);
                var mine = string.Equals(request.RequestedBy, approver.Actor, StringComparison.Ordinal);
                // The server lets a requester reject (withdraw) their own request; the inbox is for deciding others', so it
                // offers the requester neither button (withdrawing stays an API or CLI call).
                var mayReject = !mine && !ApprovalDecisions.Reject(model, request.Id, approver.Actor, "-", now).IsRejected;
                items.Add(new InboxItem(request, unmet, !approval.IsRejected && !mine, mayReject,
                    mine ? "You made this request: somebody else decides it." : approval.Rejection?.Detail));
            }
        }
        return new Inbox(items.OrderByDescending(i => i.Request.RequestedAt).ToList(), candidates.Count > MaxModels);
    }

    /// <summary>
    /// Approves or rejects through the API's endpoint, as the signed-in key (the events record its actor): the endpoint's
    /// answer, or its refusal (404 for a model the key may not read, as the API answers it).
    /// </summary>
    public async Task<ConsoleAnswer<Wire.TransitionRequestInfo>> Decide(HttpContext http, string model, string id, bool approve, string? sha256,
        string reason)
    {
        var path = $"/api/v1/models/{Uri.EscapeDataString(model)}/requests/{Uri.EscapeDataString(id)}/{(approve ? "approve" : "reject")}";
        var sub = Request(http, HttpMethods.Post, path, new Dictionary<string, StringValues>(), model);
        sub.Request.RouteValues["id"] = id;
        var allowed = await authorization.AuthorizeAsync(http.User, sub, Policies.Approve);
        if (!allowed.Succeeded)
        {
            return allowed.Failure?.FailureReasons.Any(r => r.Message == ModelAccessHandler.HiddenModel) == true
                ? new ConsoleAnswer<Wire.TransitionRequestInfo>(null, StatusCodes.Status404NotFound, "Model not found", Problems.NoSuchModel(model))
                : new ConsoleAnswer<Wire.TransitionRequestInfo>(null, StatusCodes.Status403Forbidden, "Forbidden",
                    $"This key may not approve or reject the requests of model '{model}'.");
        }
        EffectivePolicy policy;
        try
        {
            policy = await policies.ForAsync(http.Workspace(), http.RequestAborted);
        }
        catch (InvalidWorkspacePolicyException ex)
        {
            return new ConsoleAnswer<Wire.TransitionRequestInfo>(null, StatusCodes.Status503ServiceUnavailable, "Workspace policy unusable", ex.Message);
        }
        var commands = http.RequestServices.GetRequiredService<ModelCommands>();
        return await ConsoleReads.Answer<Wire.TransitionRequestInfo>(http, sub, s => approve
            ? ApproveTransitionRequestEndpoint.Post(model, id, new ApproveTransitionRequest(string.IsNullOrEmpty(sha256) ? null : sha256, reason), s,
                commands, policy.Lifecycle, policy.Approvals, time)
            : RejectTransitionRequestEndpoint.Post(model, id, new RejectTransitionRequest(reason), s, commands, policy.Approvals, time));
    }

    private async Task<bool> MayDecide(HttpContext http, string model) =>
        (await authorization.AuthorizeAsync(http.User,
            Request(http, HttpMethods.Post, $"/api/v1/models/{Uri.EscapeDataString(model)}/requests", new Dictionary<string, StringValues>(), model),
            Policies.Approve)).Succeeded;

    private static HttpContext Request(HttpContext http, string method, string path, IDictionary<string, StringValues> query, string model)
    {
        var sub = ConsoleReads.SubRequest(http, path, query, model);
        sub.Request.Method = method;
        // The command's causation is the console request that carried it.
        sub.TraceIdentifier = http.TraceIdentifier;
        return sub;
    }
}
