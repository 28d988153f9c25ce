using System.Collections.Concurrent;
using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Settings;

/// <summary>
/// A workspace's effective rate limits and artifact quota (<see cref="EffectiveLimits"/>), as this node knows them.
/// <para>
/// Every request is rate limited, reads included, so the limiter cannot afford the settings read that commands make: it
/// takes this node's copy, which is read once per workspace, replaced by every read of the settings this node makes anyway
/// (a command's policy, the policy's own routes) and by every change made on this node, and re-read in the background when
/// older than <c>Registry:RateLimits:WorkspaceRefresh</c> (no request waits for that read). A change made on another node
/// therefore applies here within that period. The quota is not rate limiting: an upload decides it on a fresh read
/// (<see cref="FreshAsync"/>), next to the storage listing it reads anyway.
/// </para>
/// </summary>
/// <remarks>
/// Written by hand because ASP.NET Core's caches expire entries rather than serve the last value while one shared
/// read replaces it, and a newer revision seen on this node must never be replaced by an older read.
/// </remarks>
public sealed class WorkspaceLimits(IDocumentStore store, RateLimitSettings rates, ArtifactSettings artifacts, TimeProvider time)
{
    private sealed record Known(EffectiveLimits Limits, DateTimeOffset ReadAt);

    private readonly ConcurrentDictionary<WorkspaceId, Known> _known = new();
    private readonly ConcurrentDictionary<WorkspaceId, Lazy<Task<EffectiveLimits>>> _reading = new();
    private readonly RateLimitValues _configured = rates.Values;

    /// <summary>The configuration's limits: what a request outside every workspace is held to.</summary>
    public EffectiveLimits Configured { get; } = EffectiveLimits.Resolve(null, rates.Values, artifacts.QuotaBytes, 0);

    public RateLimitValues ConfiguredRates => _configured;

    /// <summary>This node's copy; read (once, shared) when there is none, re-read in the background when it is old.</summary>
    public async ValueTask<EffectiveLimits> CurrentAsync(WorkspaceId workspace, CancellationToken ct)
    {
        if (_known.TryGetValue(workspace, out var known))
        {
            if (time.GetUtcNow() - known.ReadAt >= rates.WorkspaceRefresh && !_reading.ContainsKey(workspace))
                // A failed refresh keeps the copy (the limits in force stay in force); the next request tries again.
                _ = Read(workspace).ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            return known.Limits;
        }
        return await Read(workspace).WaitAsync(ct);
    }

    /// <summary>The limits as stored now.</summary>
    public async Task<EffectiveLimits> FreshAsync(WorkspaceId workspace, CancellationToken ct)
    {
        var readAt = time.GetUtcNow();
        await using var session = store.QuerySession(workspace.TenantId);
        var settings = await session.LoadAsync<RegistrySettings>(RegistrySettings.StreamId, ct);
        return Observe(workspace, settings, readAt);
    }

    /// <summary>
    /// The limits of <paramref name="settings"/>, read at <paramref name="readAt"/>; they replace this node's copy unless
    /// that is of a later revision and was read after this began (an older read finishing late never undoes a change).
    /// </summary>
    public EffectiveLimits Observe(WorkspaceId workspace, RegistrySettings? settings, DateTimeOffset readAt)
    {
        var limits = EffectiveLimits.Resolve(settings?.Policy, _configured, artifacts.QuotaBytes, settings?.Revision ?? 0);
        _known.AddOrUpdate(workspace, new Known(limits, readAt),
            (_, old) => old.Limits.Revision > limits.Revision && old.ReadAt >= readAt ? old : new Known(limits, readAt));
        return limits;
    }

    /// <summary>A change this node just made: it applies to this node's next request.</summary>
    public EffectiveLimits Observe(WorkspaceId workspace, RegistrySettings? settings) => Observe(workspace, settings, time.GetUtcNow());

    // One read per workspace at a time, shared by every request that wants it, cancelled by none of them.
    private Task<EffectiveLimits> Read(WorkspaceId workspace) =>
        _reading.GetOrAdd(workspace, w => new Lazy<Task<EffectiveLimits>>(() => ReadOnce(w))).Value;

    private async Task<EffectiveLimits> ReadOnce(WorkspaceId workspace)
    {
        try
        {
            await Task.Yield();
            return await FreshAsync(workspace, CancellationToken.None);
        }
        finally
        {
            _reading.TryRemove(workspace, out _);
        }
    }
}

/// <summary>The request's workspace and its limits, set before the rate limiter partitions the request.</summary>
public sealed record WorkspaceLimitsFeature(WorkspaceId Workspace, EffectiveLimits Limits);
