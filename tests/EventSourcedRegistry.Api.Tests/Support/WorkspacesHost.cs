using Alba;
using Microsoft.AspNetCore.Hosting;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A host for the workspace tests, on a database of its own (the partitions its tests create stay out of the shared
/// one). Its callers are real keys: see <c>WorkspaceTest.Send</c> for how a test names the workspaces a caller is in.
/// </summary>
public sealed partial class AppFixture
{
    private readonly SideHost _workspaces = new("esr_workspaces", "workspaces", builder => builder
        .UseSetting("Registry:Approvals:ProtectedStages", "")
        .UseSetting("Registry:Approvals:ProtectedAliases", "")
        .UseSetting("Registry:RateLimits:Enabled", "false"));

    public string WorkspacesConnectionString => _workspaces.ConnectionString;

    /// <summary>The workspaces host, its data reset: call it at the start of each of its tests.</summary>
    public Task<IAlbaHost> WorkspacesHost() => _workspaces.Use(this);
}
