using Alba;
using Microsoft.AspNetCore.Hosting;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>A host with the registry's own audit worker on (<c>Registry:Audit:Worker</c>) in place of Marten's async daemon.</summary>
public sealed partial class AppFixture
{
    private readonly SideHost _auditWorker = new("esr_auditworker", "auditworker", builder => builder
        .UseSetting("Registry:Audit:Worker", "true")
        .UseSetting("Registry:RateLimits:Enabled", "false"));

    /// <summary>The audit worker host, its data reset: call it at the start of each of its tests.</summary>
    public Task<IAlbaHost> AuditWorkerHost() => _auditWorker.Use(this);
}
