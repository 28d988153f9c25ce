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
/// Freshness: every request that decides with the policy reads the workspace's settings document (one primary-key read), so a
/// change made on any node applies to the next such request on every node; there is no time-based cache to wait out. What is
/// cached, by (workspace, settings revision), is the parsed and validated graph. A command already deciding keeps the policy it
/// resolved when its request started: a promotion that began before a change completes under the old policy, and the event it
/// appends is judged by that policy (the settings stream's revision at that time is in the audit log beside it).
/// </para>
/// </summary>
public sealed class WorkspacePolicies(IDocumentStore store, PolicyDefaults defaults, WorkspaceLimits limits, TimeProvider time)
{
    private readonly ConcurrentDictionary<WorkspaceId, EffectivePolicy> _parsed = new();

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
        return new WorkspacePolicyFeature(From(workspace, settings), settings);
    }

    /// <summary>
    /// The registry's settings as this request's policy was read from them (its metadata standard, for a command that checks
    /// one), or a read in <paramref name="session"/> where no policy was read for the request. The same freshness as the
    /// policy (see above): the settings as they stood when the request started, one read per request instead of two
    /// (issue 17: statements per command).
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
public sealed record WorkspacePolicyFeature(EffectivePolicy Policy, RegistrySettings? Settings);

/// <summary>
/// Endpoints keep taking <see cref="Lifecycle.Lifecycle"/> and <see cref="ApprovalPolicy"/> as parameters; both are scoped
/// services resolved for the request's workspace. The container's factories are synchronous and Marten reads are not, so
/// a middleware reads the policy (asynchronously) for exactly the endpoints that declare one of them, and the factories
/// hand out what it read.
/// </summary>
public static class PolicyResolution
{
    private static readonly ConcurrentDictionary<MethodInfo, bool> NeedsPolicy = new();

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

    /// <summary>After authorization (so no unauthorized request costs a read), before the endpoints.</summary>
    public static IApplicationBuilder UseWorkspacePolicies(this IApplicationBuilder app) =>
        app.Use(async (http, next) =>
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<HttpChain>()?.Method.Method is { } method && NeedsPolicy.GetOrAdd(method, Declares))
            {
                var policies = http.RequestServices.GetRequiredService<WorkspacePolicies>();
                try
                {
                    http.Features.Set(await policies.ReadAsync(http.Workspace(), http.RequestAborted));
                }
                catch (InvalidWorkspacePolicyException ex)
                {
                    await Unusable(ex).ExecuteAsync(http);
                    return;
                }
            }
            await next(http);
        });

    /// <summary>The workspace's stored policy no longer holds with this configuration: nothing decides until its admin fixes it.</summary>
    public static IResult Unusable(InvalidWorkspacePolicyException ex) =>
        Problems.Problem(StatusCodes.Status503ServiceUnavailable, "Workspace policy unusable", ex.Message);

    private static bool Declares(MethodInfo method) =>
        method.GetParameters().Any(p => p.ParameterType == typeof(Lifecycle.Lifecycle) || p.ParameterType == typeof(ApprovalPolicy));

    private static EffectivePolicy Current(IServiceProvider services) =>
        services.GetRequiredService<IHttpContextAccessor>().HttpContext?.Features.Get<WorkspacePolicyFeature>()?.Policy
        // No silent fallback (a blocking read here once hid that the middleware matched no endpoint): whatever needs the
        // policy outside an endpoint parameter asks WorkspacePolicies.ForAsync for the workspace it works in.
        ?? throw new InvalidOperationException(
            "Lifecycle and ApprovalPolicy are resolved per workspace only as parameters of an HTTP endpoint; use WorkspacePolicies.ForAsync elsewhere.");
}
