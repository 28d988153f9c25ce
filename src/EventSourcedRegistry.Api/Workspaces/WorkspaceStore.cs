using EventSourcedRegistry.Store;
using Marten;
using SessionOptions = Marten.Services.SessionOptions;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>
/// The event store as one workspace sees it: every session it opens is a session of that workspace's tenant, so code
/// that takes a <see cref="WorkspaceStore"/> instead of the <see cref="IDocumentStore"/> cannot read or write another
/// workspace by forgetting a filter. Scoped per request (the request's workspace); jobs build one per workspace.
/// </summary>
public sealed class WorkspaceStore(IDocumentStore documents, WorkspaceId workspace)
{
    public WorkspaceId Workspace { get; } = workspace;

    /// <summary>The whole store, for the few callers that work across workspaces (the platform's own jobs).</summary>
    public IDocumentStore Documents { get; } = documents;

    public IQuerySession QuerySession() => Documents.QuerySession(Workspace.TenantId);

    public IQuerySession QuerySession(SessionOptions options) => Documents.QuerySession(Scoped(options));

    public IDocumentSession LightweightSession() => Documents.LightweightSession(Workspace.TenantId);

    public IDocumentSession LightweightSession(SessionOptions options) => Documents.LightweightSession(Scoped(options));

    private SessionOptions Scoped(SessionOptions options)
    {
        options.TenantId = Workspace.TenantId;
        return options;
    }

    /// <summary>The request's workspace store (registered scoped in the container).</summary>
    public static WorkspaceStore ForRequest(IServiceProvider services) =>
        new(services.GetRequiredService<IDocumentStore>(),
            services.GetRequiredService<IHttpContextAccessor>().HttpContext?.Workspace() ?? WorkspaceId.Default);
}
