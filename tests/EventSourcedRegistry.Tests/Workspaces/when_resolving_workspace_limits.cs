using EventSourcedRegistry.Settings;

namespace EventSourcedRegistry.Tests.Workspaces;

/// <summary>A workspace's rate limits and artifact quota over the configuration's: each value from where it is set, and what is refused.</summary>
public class when_resolving_workspace_limits
{
    private static readonly RateLimitValues Configured = new(Reads: 1000, ReadBurst: 2000, Commands: 200, CommandBurst: 400, Uploads: 10, UploadBurst: 20);

    private static WorkspacePolicySet Limits(RateLimitsPolicy? rates, long? quota = null) => new(null, null, rates, quota);

    [Fact]
    public void without_a_policy_every_value_is_the_configurations_quota_included()
    {
        var limits = EffectiveLimits.Resolve(null, Configured, 5_000, 3);

        Assert.Equal(new Sourced<int>(200, PolicySources.Configuration), limits.Commands);
        Assert.Equal(new Sourced<int>(2000, PolicySources.Configuration), limits.ReadBurst);
        Assert.Equal(new Sourced<long?>(5_000, PolicySources.Configuration), limits.ArtifactQuotaBytes);
        Assert.Equal(3, limits.Revision);
        Assert.Equal(new Sourced<long?>(null, PolicySources.Configuration), EffectiveLimits.Resolve(null, Configured, null, 0).ArtifactQuotaBytes);
    }

    [Fact]
    public void each_count_the_workspace_leaves_out_is_the_configurations()
    {
        var limits = EffectiveLimits.Resolve(Limits(new RateLimitsPolicy(null, null, 5, 10, null, null), 1_024), Configured, null, 1);

        Assert.Equal(new Sourced<int>(5, PolicySources.Workspace), limits.Commands);
        Assert.Equal(new Sourced<int>(10, PolicySources.Workspace), limits.CommandBurst);
        Assert.Equal(new Sourced<int>(1000, PolicySources.Configuration), limits.Reads);
        Assert.Equal(new Sourced<int>(20, PolicySources.Configuration), limits.UploadBurst);
        // A workspace's quota holds even where the configuration sets none.
        Assert.Equal(new Sourced<long?>(1_024, PolicySources.Workspace), limits.ArtifactQuotaBytes);
        // Approvals alone (a policy stored before limits existed) leave the limits the configuration's.
        Assert.Equal(EffectiveLimits.Resolve(null, Configured, 9, 1),
            EffectiveLimits.Resolve(new WorkspacePolicySet(null, new ApprovalsPolicy(["Staging"], [], 2, null)), Configured, 9, 1));
    }

    [Theory]
    [InlineData(0, "rateLimits.commands")]
    [InlineData(-1, "rateLimits.commands")]
    [InlineData(EffectiveLimits.MaxRequestsPerPeriod + 1, "rateLimits.commands")]
    [InlineData(int.MaxValue, "rateLimits.commands")]
    public void a_count_outside_one_to_the_cap_is_refused(int commands, string field)
    {
        var problems = EffectiveLimits.Check(Limits(new RateLimitsPolicy(null, null, commands, null, null, null)), Configured);

        Assert.Equal([field], problems.Select(p => p.Field));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData(EffectiveLimits.MaxArtifactQuotaBytes + 1)]
    [InlineData(long.MaxValue)]
    public void a_quota_outside_one_byte_to_the_cap_is_refused(long quota) =>
        Assert.Equal(["artifactQuotaBytes"], EffectiveLimits.Check(Limits(null, quota), Configured).Select(p => p.Field));

    [Fact]
    public void a_burst_below_its_rate_is_refused_only_where_the_workspace_set_one_of_them()
    {
        // commands 500 over the configured burst of 400: the rate could never be reached.
        var raised = EffectiveLimits.Check(Limits(new RateLimitsPolicy(null, null, 500, null, null, null)), Configured);
        Assert.Equal(["rateLimits.commandBurst"], raised.Select(p => p.Field));
        Assert.Contains("400 (from the configuration)", raised[0].Message);

        Assert.Empty(EffectiveLimits.Check(Limits(new RateLimitsPolicy(null, null, 500, 500, null, null)), Configured));
        Assert.Empty(EffectiveLimits.Check(Limits(new RateLimitsPolicy(null, null, 1, 1, null, null), EffectiveLimits.MaxArtifactQuotaBytes), Configured));
        // A configuration whose own burst is below its rate is the operator's, not this workspace's problem.
        Assert.Empty(EffectiveLimits.Check(Limits(new RateLimitsPolicy(5, null, null, null, null, null)), Configured with { Uploads = 50 }));
    }
}
