using Alba;
using Microsoft.AspNetCore.Hosting;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A host with the registry's own audit worker off (<c>Registry:Audit:Worker=false</c>): Marten's async daemon runs the
/// audit projections and the workspaces' high-water marks, the fallback the setting keeps.
/// </summary>
public sealed partial class AppFixture
{
    private readonly SideHost _auditDaemon = new("esr_auditdaemon", "auditdaemon", builder => builder
        .UseSetting("Registry:Audit:Worker", "false")
        .UseSetting("Registry:RateLimits:Enabled", "false"));

    /// <summary>The audit daemon host, its data reset: call it at the start of each of its tests.</summary>
    public Task<IAlbaHost> AuditDaemonHost() => _auditDaemon.Use(this);
}
