using System.Collections.Concurrent;
using System.Reflection;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Settings;

/// <summary>The configuration's policy (<c>Registry:Lifecycle</c>, <c>Registry:Approvals</c>), validated at startup: every workspace's default.</summary>
public sealed record PolicyDefaults(LifecycleOptions Lifecycle, ApprovalOptions Approvals);

/// <summary>
/// The effective policy of a workspace: its settings stream's <see cref="WorkspacePolicySet"/> over the configuration's defaults.
/// <para>
/// Freshness: a change made on any node applies to the next request on every node; there is no time-based cache to wait out.
/// Every request that decides with the policy reads the workspace's settings document (one primary-key read), except on the
/// endpoints marked <see cref="PolicyConfirmedInCommandAttribute"/>: those start from this node's last read
/// (<see cref="LastRead"/>) and confirm its revision in the command's own transaction, in the batch that locks the model's
/// stream (<see cref="ModelCommands"/>), or read again before a refusal the policy makes; when the revision moved, the request
/// runs again on a fresh read (<see cref="PolicyResolution"/>). What is cached, by (workspace, settings revision), is the
/// parsed and validated graph. A command already deciding keeps the policy it resolved when its request started (or confirmed
/// under the stream's lock): a promotion that began before a change completes under the old policy, and the event it appends
/// is judged by that policy (the settings stream's revision at that time is in the audit log beside it).
/// </para>
/// </summary>
public sealed class WorkspacePolicies(IDocumentStore store, PolicyDefaults defaults, WorkspaceLimits limits, TimeProvider time)
{
    private readonly ConcurrentDictionary<WorkspaceId, EffectivePolicy> _parsed = new();
    private readonly ConcurrentDictionary<WorkspaceId, WorkspacePolicyFeature> _lastRead = new();

    public PolicyDefaults Defaults => defaults;

    /// <summary>The workspace's rate limits and artifact quota; see <see cref="WorkspaceLimits"/>.</summary>
    public WorkspaceLimits Limits => limits;

    public async Task<EffectivePolicy> ForAsync(WorkspaceId workspace, CancellationToken ct) => (await ReadAsync(workspace, ct)).Policy;

    /// <summary>The workspace's policy and the settings document it was resolved from (one primary-key read).</summary>
    public async Task<WorkspacePolicyFeature> ReadAsync(WorkspaceId workspace, CancellationToken ct)
    {
        var readAt = time.GetUtcNow();
        await using var session = store.QuerySession(workspace.TenantId);
        var settings = await session.LoadAsync<RegistrySettings>(RegistrySettings.StreamId, ct);
        // A read made anyway: it refreshes this node's copy of the rate limits for free.
        limits.Observe(workspace, settings, readAt);
        var read = new WorkspacePolicyFeature(From(workspace, settings), settings);
        // The newest read wins, whatever its revision (a workspace made again starts its settings anew): a copy that is
        // wrong only costs the next confirming command a second run, never a decision under it.
        _lastRead[workspace] = read;
        return read;
    }

    /// <summary>
    /// This node's last read of the workspace's policy, marked <see cref="WorkspacePolicyFeature.Unconfirmed"/>: nothing may
    /// decide or refuse by it before its revision is confirmed (see <see cref="PolicyConfirmedInCommandAttribute"/>). None
    /// before this node's first read of the workspace.
    /// </summary>
    public WorkspacePolicyFeature? LastRead(WorkspaceId workspace) =>
        _lastRead.TryGetValue(workspace, out var read) ? read with { Unconfirmed = true } : null;

    /// <summary>
    /// The registry's settings as this request's policy was read from them (its metadata standard, for a command that checks
    /// one), or a read in <paramref name="session"/> where no policy was read for the request. The same freshness as the
    /// policy (see above): the settings as they stood when the request started, or, for a policy taken from this node's
    /// copy, as confirmed under the model's lock; one read per request instead of two (issue 17: statements per command).
    /// </summary>
    public static async Task<RegistrySettings?> SettingsOf(HttpContext http, IQuerySession session, CancellationToken ct) =>
        http.Features.Get<WorkspacePolicyFeature>() is { } read
            ? read.Settings
            : await session.LoadAsync<RegistrySettings>(RegistrySettings.StreamId, ct);

    /// <summary>The policy of <paramref name="settings"/>, parsed once per (workspace, revision).</summary>
    public EffectivePolicy From(WorkspaceId workspace, RegistrySettings? settings)
    {
        var revision = settings?.Revision ?? 0;
        if (_parsed.TryGetValue(workspace, out var cached) && cached.Revision == revision) return cached;
        var (policy, problems) = EffectivePolicy.Resolve(settings?.Policy, defaults.Lifecycle, defaults.Approvals, revision);
        // Only a stored policy that the configuration no longer admits gets here (say approvals naming a stage the
        // configured lifecycle dropped, after a redeploy). Fail closed: no command decides under a policy nobody set.
        if (policy is null)
            throw new InvalidWorkspacePolicyException(
                $"Workspace {workspace}'s policy (settings revision {revision}) is no longer valid with this configuration: " +
                string.Join(" ", problems.Select(p => $"{p.Field}: {p.Message}")) + " Its admin must set it again or remove it.");
        _parsed[workspace] = policy;
        return policy;
    }
}

/// <summary>A stored policy this configuration does not admit; answered 503 (see <see cref="PolicyResolution"/>), never decided under.</summary>
public sealed class InvalidWorkspacePolicyException(string message) : Exception(message);

/// <summary>The request's resolved policy and the settings it came from, set by <see cref="PolicyResolution"/> before the endpoint runs.</summary>
public sealed record WorkspacePolicyFeature(EffectivePolicy Policy, RegistrySettings? Settings)
{
    /// <summary>
    /// Taken from this node's last read instead of read for this request (<see cref="WorkspacePolicies.LastRead"/>): a command
    /// confirms <see cref="Revision"/> under its model's lock before it decides, and a refusal by it confirms first
    /// (<see cref="PolicyResolution.Confirm"/>).
    /// </summary>
    public bool Unconfirmed { get; init; }

    /// <summary>The settings stream's revision this policy was resolved from (0: none was ever written).</summary>
    public long Revision => Settings?.Revision ?? 0;
}

/// <summary>
/// On an endpoint that takes <see cref="Lifecycle.Lifecycle"/> or <see cref="ApprovalPolicy"/>: the endpoint decides with the
/// policy only inside <see cref="ModelCommands.Execute"/> (which confirms the settings revision in the batch that locks the
/// model's stream), and calls <see cref="PolicyResolution.Confirm"/> before any refusal the policy makes outside it. So the
/// request may start from this node's last read of the policy instead of reading it (issue 17: round trips per command).
/// Its JSON body must be re-readable (it is, see <see cref="CanonicalJsonInput"/>): an unconfirmed policy runs it again.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PolicyConfirmedInCommandAttribute : Attribute;

/// <summary>
/// The request started from this node's copy of the workspace's policy and its settings have moved since (or it was about to
/// refuse by that copy): nothing was appended, and <see cref="PolicyResolution"/> runs the request again on a fresh read.
/// </summary>
public sealed class PolicyUnconfirmedException(WorkspaceId workspace, long copied, long? stored)
    : Exception(stored is { } now
        ? $"Workspace {workspace}'s settings are at revision {now}, not the {copied} this node's copy of its policy has."
        : $"A refusal by this node's copy of workspace {workspace}'s policy (revision {copied}) must be confirmed on a fresh read.");

/// <summary>
/// Endpoints keep taking <see cref="Lifecycle.Lifecycle"/> and <see cref="ApprovalPolicy"/> as parameters; both are scoped
/// services resolved for the request's workspace. The container's factories are synchronous and Marten reads are not, so
/// a middleware reads the policy (asynchronously) for exactly the endpoints that declare one of them, and the factories
/// hand out what it read.
/// </summary>
public static class PolicyResolution
{
    private enum PolicyUse { None, ReadPerRequest, ConfirmedInCommand }

    private static readonly ConcurrentDictionary<MethodInfo, PolicyUse> Uses = new();

    public static IServiceCollection AddWorkspacePolicies(this IServiceCollection services, PolicyDefaults defaults)
    {
        services.AddSingleton(defaults);
        services.AddSingleton<WorkspacePolicies>();
        services.AddScoped(sp => Current(sp).Lifecycle);
        services.AddScoped(sp => Current(sp).Approvals);
        // Factories Wolverine's code generation cannot inline: resolved from the request's container. (The store slice
        // makes the same call for WorkspaceStore; repeating it here keeps this branch's endpoints working on their own.)
        services.ConfigureWolverine(options =>
        {
            options.CodeGeneration.AlwaysUseServiceLocationFor<Lifecycle.Lifecycle>();
            options.CodeGeneration.AlwaysUseServiceLocationFor<ApprovalPolicy>();
            options.CodeGeneration.AlwaysUseServiceLocationFor<WorkspaceStore>();
        });
        return services;
    }

    /// <summary>
    /// After authorization (so no unauthorized request costs a read), before the endpoints. On an endpoint marked
    /// <see cref="PolicyConfirmedInCommandAttribute"/> the request starts from this node's last read; should that turn out
    /// unconfirmed (<see cref="PolicyUnconfirmedException"/>, before anything was appended or answered), the request runs
    /// once more on a fresh read, which needs no confirming. Written here because no ASP.NET Core or Wolverine facility
    /// re-runs an endpoint on a condition only the endpoint can find.
    /// </summary>
    public static IApplicationBuilder UseWorkspacePolicies(this IApplicationBuilder app) =>
        app.Use(async (http, next) =>
        {
            var use = http.GetEndpoint()?.Metadata.GetMetadata<HttpChain>()?.Method.Method is { } method ? Uses.GetOrAdd(method, UseOf) : PolicyUse.None;
            if (use == PolicyUse.None)
            {
                await next(http);
                return;
            }

            var policies = http.RequestServices.GetRequiredService<WorkspacePolicies>();
            var workspace = http.Workspace();
            if (use == PolicyUse.ConfirmedInCommand && http.Request.Body.CanSeek && policies.LastRead(workspace) is { } copy)
            {
                var start = http.Request.Body.Position;
                http.Features.Set(copy);
                try
                {
                    await next(http);
                    return;
                }
                catch (PolicyUnconfirmedException) when (!http.Response.HasStarted)
                {
                    // Nothing was appended (the command's transaction was never committed) and nothing answered: run again.
                    http.Request.Body.Position = start;
                }
            }

            try
            {
                http.Features.Set(await policies.ReadAsync(workspace, http.RequestAborted));
            }
            catch (InvalidWorkspacePolicyException ex)
            {
                await Unusable(ex).ExecuteAsync(http);
                return;
            }
            await next(http);
        });

    /// <summary>
    /// Before a refusal by the request's policy (an unknown stage, say): when the policy is this node's unconfirmed copy, the
    /// request runs again on a fresh read (<see cref="PolicyUnconfirmedException"/>), so a stage another node's change just
    /// added is never refused here by an older copy.
    /// </summary>
    public static void Confirm(HttpContext http)
    {
        if (RevisionToConfirm(http) is { } copied) throw new PolicyUnconfirmedException(http.Workspace(), copied, stored: null);
    }

    /// <summary>
    /// The settings revision a command must confirm under its model's lock before deciding (<see cref="ModelCommands.Run"/>'s
    /// <c>policyRevision</c>): that of the request's policy when it is this node's unconfirmed copy, else none.
    /// </summary>
    public static long? RevisionToConfirm(HttpContext http) =>
        http.Features.Get<WorkspacePolicyFeature>() is { Unconfirmed: true } copy ? copy.Revision : null;

    /// <summary>The workspace's stored policy no longer holds with this configuration: nothing decides until its admin fixes it.</summary>
    public static IResult Unusable(InvalidWorkspacePolicyException ex) =>
        Problems.Problem(StatusCodes.Status503ServiceUnavailable, "Workspace policy unusable", ex.Message);

    private static PolicyUse UseOf(MethodInfo method) =>
        !method.GetParameters().Any(p => p.ParameterType == typeof(Lifecycle.Lifecycle) || p.ParameterType == typeof(ApprovalPolicy))
            ? PolicyUse.None
            : method.GetCustomAttribute<PolicyConfirmedInCommandAttribute>() is not null ? PolicyUse.ConfirmedInCommand : PolicyUse.ReadPerRequest;

    private static EffectivePolicy Current(IServiceProvider services) =>
        services.GetRequiredService<IHttpContextAccessor>().HttpContext?.Features.Get<WorkspacePolicyFeature>()?.Policy
        // No silent fallback (a blocking read here once hid that the middleware matched no endpoint): whatever needs the
        // policy outside an endpoint parameter asks WorkspacePolicies.ForAsync for the workspace it works in.
        ?? throw new InvalidOperationException(
            "Lifecycle and ApprovalPolicy are resolved per workspace only as parameters of an HTTP endpoint; use WorkspacePolicies.ForAsync elsewhere.");
}
