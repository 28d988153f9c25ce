using Microsoft.AspNetCore.Mvc;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Validation;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Settings;

/// <summary>A workspace's new policy: each part null to take the configuration's default.</summary>
public sealed record SetWorkspacePolicy(LifecyclePolicy? Lifecycle, ApprovalsPolicy? Approvals, RateLimitsPolicy? RateLimits,
    [property: JsonNumberHandling(JsonNumberHandling.Strict)] long? ArtifactQuotaBytes, string? Reason);

/// <summary>The effective policy and where each part comes from (<c>workspace</c> or <c>configuration</c>).</summary>
public sealed record PolicyResponse(long Revision, LifecycleResponse Lifecycle, ApprovalsResponse Approvals, RateLimitsResponse RateLimits,
    Sourced<long?> ArtifactQuotaBytes, JsonElement? MetadataSchema);

/// <summary>
/// Each count with where it comes from; <c>enabled</c> and <c>period</c> are the deployment's (<c>Registry:RateLimits</c>):
/// with rate limits off, the counts are kept and shown but hold nobody.
/// </summary>
public sealed record RateLimitsResponse(bool Enabled, TimeSpan Period, Sourced<int> Reads, Sourced<int> ReadBurst, Sourced<int> Commands,
    Sourced<int> CommandBurst, Sourced<int> Uploads, Sourced<int> UploadBurst);

public sealed record LifecycleResponse(string Source, IReadOnlyList<string> Stages, string InitialStage, string ArchiveStage,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Transitions, IReadOnlyDictionary<string, GateResponse> Gates);

public sealed record GateResponse(IReadOnlyList<string> Lineage, IReadOnlyList<string> Metrics, IReadOnlyList<string> Metadata, IReadOnlyList<string> Tags);

public sealed record ApprovalsResponse(string Source, IReadOnlyList<string> ProtectedStages, IReadOnlyList<string> ProtectedAliases,
    int RequiredApprovals, TimeSpan ApprovalLifetime);

/// <summary>
/// The workspace's policy (lifecycle with gates, four-eyes approvals, rate limits, artifact quota), kept as events in its settings stream: readable by
/// its members, changed by its admin. Its ETag is the settings stream's revision (shared with the metadata standard).
/// </summary>
public static class PolicyEndpoints
{
    public const string Route = "/api/v1/settings/policy";

    [Authorize(Policy = Policies.Read)]
    [ProducesResponseType<PolicyResponse>(StatusCodes.Status200OK)]
    [WolverineGet(Route, OperationId = "GetWorkspacePolicy")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceStore store, WorkspacePolicies policies, RateLimitSettings rates)
    {
        var readAt = DateTimeOffset.UtcNow;
        await using var session = store.QuerySession();
        var settings = await session.LoadAsync<RegistrySettings>(RegistrySettings.StreamId, http.RequestAborted);
        EffectivePolicy policy;
        try
        {
            policy = policies.From(store.Workspace, settings);
        }
        catch (InvalidWorkspacePolicyException ex)
        {
            return PolicyResolution.Unusable(ex);
        }
        var limits = policies.Limits.Observe(store.Workspace, settings, readAt);
        Revisions.Write(http.Response, policy.Revision);
        return Results.Json(Describe(policy, limits, rates, settings?.MetadataSchema), Json.Options);
    }

    /// <summary>Replaces the workspace's policy, validated exactly as startup validates configuration; nothing is appended on bad input.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<PolicyResponse>(StatusCodes.Status200OK)]
    [ReadsIfMatch]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePut(Route, OperationId = "SetWorkspacePolicy")]
    public static async Task<IResult> Put(SetWorkspacePolicy? request, HttpContext http, WorkspaceStore store, WorkspacePolicies policies,
        RateLimitSettings rates)
    {
        if (request is null) return Problems.BodyRequired("{\"lifecycle\"?, \"approvals\"?, \"rateLimits\"?, \"artifactQuotaBytes\"?, \"reason\"?}");
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } bad) return Problems.Validation([("reason", bad)]);
        var set = new WorkspacePolicySet(request.Lifecycle, request.Approvals, request.RateLimits, request.ArtifactQuotaBytes);
        var (_, problems) = EffectivePolicy.Resolve(set, policies.Defaults.Lifecycle, policies.Defaults.Approvals, 0);
        var limitProblems = EffectiveLimits.Check(set, policies.Limits.ConfiguredRates);
        if (problems.Count + limitProblems.Count > 0) return Problems.Validation(problems.Concat(limitProblems));
        return await Change(http, store, policies, rates, request.Reason, _ => set);
    }

    /// <summary>Removes the workspace's policy: every part is the configuration's again. Nothing to remove answers 204 and appends nothing.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ReadsIfMatch]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverineDelete(Route, OperationId = "RemoveWorkspacePolicy")]
    public static async Task<IResult> Delete(HttpContext http, WorkspaceStore store, WorkspacePolicies policies, RateLimitSettings rates)
    {
        var reason = http.Request.Query["reason"].ToString();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);
        return await Change(http, store, policies, rates, reason, settings => settings?.Policy is null ? null : new WorkspacePolicyRemoved());
    }

    /// <summary>Changes the settings stream (<see cref="SettingsChanges"/>); a DELETE with nothing to remove answers 204 and appends nothing.</summary>
    private static async Task<IResult> Change(HttpContext http, WorkspaceStore store, WorkspacePolicies policies, RateLimitSettings rates,
        string? reason, Func<RegistrySettings?, object?> decide)
    {
        var outcome = await SettingsChanges.Apply(http, store, reason,
            settings => decide(settings) is { } @event ? Decision.Accept(@event) : Decision.Unchanged);
        if (outcome.Problem is { } problem) return problem;
        var after = outcome.After;
        if (!outcome.Changed && http.Request.Method == HttpMethods.Delete)
        {
            Revisions.Write(http.Response, outcome.DecidedAt);
            return Results.NoContent();
        }

        // This node's next request is held to the new limits; other nodes within Registry:RateLimits:WorkspaceRefresh.
        var limits = policies.Limits.Observe(store.Workspace, after);
        Revisions.Write(http.Response, after.Revision);
        if (http.Request.Method == HttpMethods.Delete) return Results.NoContent();
        return Results.Json(Describe(policies.From(store.Workspace, after), limits, rates, after.MetadataSchema), Json.Options);
    }

    private static PolicyResponse Describe(EffectivePolicy policy, EffectiveLimits limits, RateLimitSettings rates, JsonElement? metadataSchema)
    {
        var lifecycle = policy.Lifecycle;
        var gates = new Dictionary<string, GateResponse>();
        foreach (var stage in lifecycle.Stages)
            if (lifecycle.GatesFor(stage) is { IsEmpty: false } gate)
                gates[stage] = new GateResponse(gate.Lineage, gate.Metrics.Select(m => m.ToString()).ToList(), gate.Metadata, gate.Tags);
        return new PolicyResponse(policy.Revision,
            new LifecycleResponse(policy.LifecycleSource, lifecycle.Stages, lifecycle.InitialStage, lifecycle.ArchiveStage,
                lifecycle.Stages.ToDictionary(s => s, s => lifecycle.AllowedFrom(s)), gates),
            new ApprovalsResponse(policy.ApprovalsSource, policy.Approvals.ProtectedStages, policy.Approvals.ProtectedAliases,
                policy.Approvals.RequiredApprovals, policy.Approvals.ApprovalLifetime),
            new RateLimitsResponse(rates.Enabled, rates.Period, limits.Reads, limits.ReadBurst, limits.Commands, limits.CommandBurst,
                limits.Uploads, limits.UploadBurst),
            limits.ArtifactQuotaBytes,
            metadataSchema);
    }
}
