using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// A node's copy of a workspace's limits (what the rate limiter reads instead of the database): another node's change is
/// the policy event appended straight to the store, and this node's clock is a hand-moved one, so "within the refresh
/// period" is checked without waiting it out.
/// </summary>
public sealed class when_another_node_changes_a_workspaces_limits(AppFixture app) : WorkspaceTest(app)
{
    private sealed class HandMovedClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task the_copy_takes_it_once_older_than_the_refresh_period_and_an_older_read_never_undoes_it()
    {
        var workspace = WorkspaceId.Parse(await CreateWorkspace());
        var clock = new HandMovedClock();
        var rates = new RateLimitSettings();
        var limits = new WorkspaceLimits(Store, rates, new ArtifactSettings(), clock);
        Assert.Equal(PolicySources.Configuration, (await limits.CurrentAsync(workspace, CancellationToken.None)).Commands.Source);

        await using (var elsewhere = Store.LightweightSession(workspace.TenantId))
        {
            // As the policy route appends (with the stream's version, which the settings' revision is).
            var stream = await elsewhere.Events.FetchForWriting<RegistrySettings>(RegistrySettings.StreamId);
            stream.AppendOne(new WorkspacePolicySet(null, null, new RateLimitsPolicy(null, null, 7, 7, null, null)));
            await elsewhere.SaveChangesAsync();
        }

        Assert.Equal(200, (await limits.CurrentAsync(workspace, CancellationToken.None)).Commands.Value);   // fresh copy: no read
        clock.Now += rates.WorkspaceRefresh;
        Assert.Equal(200, (await limits.CurrentAsync(workspace, CancellationToken.None)).Commands.Value);   // served while one read replaces it
        EffectiveLimits current;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((current = await limits.CurrentAsync(workspace, CancellationToken.None)).Commands.Value != 7)
        {
            Assert.True(DateTime.UtcNow < deadline, "the background read never replaced the copy");
            await Task.Delay(20);
        }
        Assert.Equal((7, PolicySources.Workspace, 1L), (current.CommandBurst.Value, current.CommandBurst.Source, current.Revision));

        // A read that began before the change and finishes after it is ignored.
        limits.Observe(workspace, new RegistrySettings { Revision = 0 }, clock.Now - TimeSpan.FromSeconds(1));
        Assert.Equal(7, (await limits.CurrentAsync(workspace, CancellationToken.None)).Commands.Value);
    }
}
