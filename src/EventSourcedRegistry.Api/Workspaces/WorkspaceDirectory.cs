using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Workspaces;
using Marten;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>
/// The workspace directory as this node holds it: every <see cref="WorkspaceView"/> of the platform tenant, read again
/// when older than <see cref="RefreshEvery"/> (one shared read; requests never read it one by one). Answers that must
/// be current never rely on the copy alone: a slug the copy does not know is read from the view before it is called
/// unknown (so a workspace created on another node is addressable at once), and a command's workspace is read fresh
/// (so an archive on another node refuses the very next command). Only members of a workspace reach either read (the
/// membership check runs first), so unknown slugs cannot make the directory read the database.
/// </summary>
/// <remarks>
/// Written by hand because ASP.NET Core's caches hold entries, not "the whole set as of a moment", and the lists and
/// the membership check need the set.
/// </remarks>
public sealed class WorkspaceDirectory(IDocumentStore store, IConfiguration configuration, TimeProvider time)
{
    public const string RefreshSetting = "Registry:Workspaces:DirectoryRefreshSeconds";
    public const string DefaultDisplayName = "Default";

    private sealed record Snapshot(IReadOnlyDictionary<string, WorkspaceView> Views, DateTimeOffset LoadedAt);

    private volatile Snapshot? _snapshot;
    private Task<Snapshot>? _loading;
    private readonly Lock _loadingLock = new();

    public TimeSpan RefreshEvery { get; } = TimeSpan.FromSeconds(configuration.GetValue(RefreshSetting, 5.0));

    /// <summary>The platform tenant's store: the directory's events and views live there, in no workspace.</summary>
    public WorkspaceStore Platform { get; } = new(store, WorkspaceId.Platform);

    /// <summary>
    /// <c>default</c> exists whether or not its creation is recorded yet (a new store, or one from before workspaces
    /// until the upgrade records it): unprefixed routes address it.
    /// </summary>
    public static WorkspaceView DefaultEntry() => new() { Id = WorkspaceId.Default.Slug, DisplayName = DefaultDisplayName };

    /// <summary>Every workspace (archived ones too), by slug, <c>default</c> included.</summary>
    public async Task<IReadOnlyList<WorkspaceView>> AllAsync(bool fresh, CancellationToken ct)
    {
        var snapshot = fresh ? await Load(ct) : await Current(ct);
        return snapshot.Views.Values.OrderBy(v => v.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>The workspace, or null when there is none; read from the view when the copy does not know it or <paramref name="fresh"/>.</summary>
    public async Task<WorkspaceView?> FindAsync(WorkspaceId workspace, bool fresh, CancellationToken ct)
    {
        if (!fresh && (await Current(ct)).Views.TryGetValue(workspace.Slug, out var known)) return known;
        await using var session = Platform.QuerySession();
        var view = await session.LoadAsync<WorkspaceView>(workspace.Slug, ct);
        if (view is null && workspace == WorkspaceId.Default) view = DefaultEntry();
        if (view is not null) Remember(view);
        return view;
    }

    /// <summary>Puts a view this node just read or wrote into its copy, so its next request sees it.</summary>
    public void Remember(WorkspaceView view)
    {
        if (_snapshot is not { } snapshot) return;
        var views = new Dictionary<string, WorkspaceView>(snapshot.Views, StringComparer.Ordinal) { [view.Id] = view };
        _snapshot = snapshot with { Views = views };
    }

    private Task<Snapshot> Current(CancellationToken ct)
    {
        if (_snapshot is { } known && time.GetUtcNow() - known.LoadedAt < RefreshEvery) return Task.FromResult(known);
        lock (_loadingLock)
        {
            if (_snapshot is { } fresh && time.GetUtcNow() - fresh.LoadedAt < RefreshEvery) return Task.FromResult(fresh);
            // Shared by every request that finds the copy stale meanwhile; not cancelled by any one of them.
            _loading ??= Task.Run(async () =>
            {
                try { return await Load(CancellationToken.None); }
                finally { lock (_loadingLock) _loading = null; }
            }, CancellationToken.None);
            return _loading.WaitAsync(ct);
        }
    }

    private async Task<Snapshot> Load(CancellationToken ct)
    {
        var loadedAt = time.GetUtcNow();
        await using var session = Platform.QuerySession();
        var views = (await session.Query<WorkspaceView>().ToListAsync(ct)).ToDictionary(v => v.Id, StringComparer.Ordinal);
        views.TryAdd(WorkspaceId.Default.Slug, DefaultEntry());
        var snapshot = new Snapshot(views, loadedAt);
        _snapshot = snapshot;
        return snapshot;
    }
}
