using EventSourcedRegistry.Approvals;

namespace EventSourcedRegistry.Tests.Approvals;

public class when_configuring_approvals
{
    [Fact]
    public void the_default_protects_production_and_champion_with_one_approval_for_seven_days()
    {
        var policy = ApprovalPolicy.Default;

        Assert.Equal([LifecycleGraph.Production], policy.ProtectedStages);
        Assert.Equal(["champion"], policy.ProtectedAliases);
        Assert.Equal((1, TimeSpan.FromDays(7)), (policy.RequiredApprovals, policy.ApprovalLifetime));
        Assert.True(policy.ProtectsStage("production"));
        Assert.True(policy.ProtectsAlias("Champion"));
    }

    [Fact]
    public void empty_lists_protect_nothing()
    {
        var policy = ApprovalPolicy.From(new ApprovalOptions { ProtectedStages = [], ProtectedAliases = [""] }, LifecycleGraph.Default);

        Assert.Empty(policy.ProtectedStages);
        Assert.Empty(policy.ProtectedAliases);
    }

    [Fact]
    public void stages_take_the_lifecycles_spelling()
    {
        var policy = ApprovalPolicy.From(new ApprovalOptions { ProtectedStages = ["staging", "PRODUCTION"] }, LifecycleGraph.Default);

        Assert.Equal([LifecycleGraph.Staging, LifecycleGraph.Production], policy.ProtectedStages);
    }

    [Theory]
    [InlineData("Canary", null, null, null, "Canary")]
    [InlineData(null, "latest", null, null, "reserved")]
    [InlineData(null, "v2", null, null, "reserved")]
    [InlineData(null, "has space", null, null, "has space")]
    [InlineData(null, null, 0, null, "RequiredApprovals")]
    [InlineData(null, null, 11, null, "RequiredApprovals")]
    [InlineData(null, null, null, "00:00:00", "ApprovalLifetime")]
    [InlineData(null, null, null, "-1.00:00:00", "ApprovalLifetime")]
    public void a_misconfiguration_is_refused_with_the_setting_named(string? stage, string? alias, int? required, string? lifetime, string named)
    {
        var options = new ApprovalOptions
        {
            ProtectedStages = stage is null ? null : [stage],
            ProtectedAliases = alias is null ? null : [alias],
            RequiredApprovals = required,
            ApprovalLifetime = lifetime is null ? null : TimeSpan.Parse(lifetime),
        };

        var error = Assert.Throws<InvalidOperationException>(() => ApprovalPolicy.From(options, LifecycleGraph.Default));

        Assert.Contains(named, error.Message);
        Assert.Contains(ApprovalOptions.Section, error.Message);
    }
}
