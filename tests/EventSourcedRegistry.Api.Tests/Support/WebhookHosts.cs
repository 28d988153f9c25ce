using Alba;
using Microsoft.AspNetCore.Hosting;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// Two hosts whose webhook dispatcher wakes only one way, each on a database of its own (a dispatcher leads its own
/// database: the shared host's would otherwise deliver their events): one that polls every ten minutes, so what it
/// delivers within seconds it delivered on the appends' notifications, and one that never listens and polls as the
/// shared host does, so what it delivers it delivered without a notification. Four-eyes approval off, as on the shared host.
/// </summary>
public sealed partial class AppFixture
{
    private readonly SideHost _notified = new("esr_hooks_notified", "hooks-notified", builder => builder
        .UseSetting("Registry:Approvals:ProtectedStages", "")
        .UseSetting("Registry:Webhooks:AllowedTargets", WebhookReceiver.Address)
        .UseSetting("Registry:Webhooks:Poll", "00:10:00"));

    private readonly SideHost _polled = new("esr_hooks_polled", "hooks-polled", builder => builder
        .UseSetting("Registry:Approvals:ProtectedStages", "")
        .UseSetting("Registry:Webhooks:AllowedTargets", WebhookReceiver.Address)
        .UseSetting("Registry:Webhooks:Listen", "false")
        .UseSetting("Registry:Webhooks:Poll", "00:00:00.050"));

    /// <summary>The host whose dispatcher polls every ten minutes and listens for notifications, its data reset.</summary>
    public Task<IAlbaHost> NotifiedHooksHost() => _notified.Use(this);

    /// <summary>The host whose dispatcher never listens and polls every 50 ms, its data reset.</summary>
    public Task<IAlbaHost> PolledHooksHost() => _polled.Use(this);

    /// <summary>The database of <see cref="NotifiedHooksHost"/> (once it has started).</summary>
    public string NotifiedHooksConnectionString => _notified.ConnectionString;

    /// <summary>The database of <see cref="PolledHooksHost"/> (once it has started).</summary>
    public string PolledHooksConnectionString => _polled.ConnectionString;
}
