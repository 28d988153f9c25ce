using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>The workspace a request addresses, set by the routing middleware; absent means <see cref="WorkspaceId.Default"/>.</summary>
public interface IWorkspaceFeature
{
    WorkspaceId Workspace { get; }
}

public sealed record WorkspaceFeature(WorkspaceId Workspace) : IWorkspaceFeature;

public static class RequestWorkspace
{
    /// <summary>The request's workspace: the prefix it was addressed through, or <c>default</c> for an unprefixed route.</summary>
    public static WorkspaceId Workspace(this HttpContext http) =>
        http.Features.Get<IWorkspaceFeature>()?.Workspace ?? WorkspaceId.Default;
}
