using Alba;
using Microsoft.AspNetCore.Hosting;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// The shared host runs with four-eyes approval off, so the many tests that promote to Production or move
/// <c>champion</c> keep testing those commands themselves. The approval tests need the product's default
/// (Production and champion protected): a second host, started on first use, on a database of its own.
/// </summary>
public sealed partial class AppFixture
{
    // Approvers hear of requests through webhooks (when_approvers_are_notified): the tests' receiver address is allowed.
    private readonly SideHost _governed = new("esr_governed", "governed", builder => builder
        .UseSetting("Registry:Webhooks:AllowedTargets", WebhookReceiver.Address)
        .UseSetting("Registry:Webhooks:Poll", "00:00:00.050"));

    /// <summary>The host with default approvals, its data reset: call it at the start of each approval test.</summary>
    public Task<IAlbaHost> GovernedHost() => _governed.Use(this);
}
