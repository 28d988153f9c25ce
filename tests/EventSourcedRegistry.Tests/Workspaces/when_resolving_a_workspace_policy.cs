using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Settings;

namespace EventSourcedRegistry.Tests.Workspaces;

/// <summary>A workspace's policy over the configuration's: which part comes from where, and the startup validators as its validator.</summary>
public class when_resolving_a_workspace_policy
{
    private static readonly LifecycleOptions ConfiguredLifecycle = new();
    private static readonly ApprovalOptions ConfiguredApprovals = new() { ProtectedStages = [], ProtectedAliases = [] };

    private static (EffectivePolicy? Policy, IReadOnlyList<(string Field, string Message)> Problems) Resolve(WorkspacePolicySet? policy) =>
        EffectivePolicy.Resolve(policy, ConfiguredLifecycle, ConfiguredApprovals, 7);

    [Fact]
    public void without_a_policy_every_part_is_the_configurations()
    {
        var (policy, problems) = Resolve(null);

        Assert.Empty(problems);
        Assert.Equal((PolicySources.Configuration, PolicySources.Configuration, 7L), (policy!.LifecycleSource, policy.ApprovalsSource, policy.Revision));
        Assert.Equal(EventSourcedRegistry.Lifecycle.Lifecycle.Default.Stages, policy.Lifecycle.Stages);
        Assert.Empty(policy.Approvals.ProtectedStages);
    }

    [Fact]
    public void approvals_of_its_own_keep_the_configured_lifecycle_and_are_checked_against_it()
    {
        var (policy, _) = Resolve(new WorkspacePolicySet(null, new ApprovalsPolicy(["staging"], null, 2, null)));

        Assert.Equal((PolicySources.Configuration, PolicySources.Workspace), (policy!.LifecycleSource, policy.ApprovalsSource));
        Assert.Equal(["Staging"], policy.Approvals.ProtectedStages);
        Assert.Equal(["champion"], policy.Approvals.ProtectedAliases); // null takes the default, as in configuration
        Assert.Equal(2, policy.Approvals.RequiredApprovals);
    }

    [Fact]
    public void a_lifecycle_of_its_own_is_what_approvals_are_checked_against()
    {
        var canary = new LifecyclePolicy(["None", "Canary", "Archived"], null, null, null, null);

        var (refused, problems) = Resolve(new WorkspacePolicySet(canary, new ApprovalsPolicy(["Production"], [], null, null)));
        var (accepted, _) = Resolve(new WorkspacePolicySet(canary, new ApprovalsPolicy(["Canary"], [], null, null)));

        Assert.Null(refused);
        Assert.Equal("approvals", Assert.Single(problems).Field);
        Assert.Contains("'Production'", problems[0].Message);
        Assert.Equal(["Canary"], accepted!.Approvals.ProtectedStages);
        // The configuration's default protects Production, which this lifecycle has not: it protects no stage, as at startup.
        Assert.Empty(Resolve(new WorkspacePolicySet(canary, null)).Policy!.Approvals.ProtectedStages);
    }

    [Fact]
    public void every_gate_problem_is_a_field_error_of_its_own()
    {
        var gates = new Dictionary<string, StageGatePolicy>
        {
            ["Nowhere"] = new(null, null, null, ["x"]),
            ["Production"] = new(["gitHash"], ["auc >= 1e400"], null, null),
        };

        var (policy, problems) = Resolve(new WorkspacePolicySet(new LifecyclePolicy(null, null, null, null, gates), null));

        Assert.Null(policy);
        Assert.Equal(3, problems.Count);
        Assert.All(problems, p => Assert.Equal("lifecycle", p.Field));
    }

    [Fact]
    public void sizes_are_refused_before_anything_is_parsed()
    {
        var stages = Enumerable.Range(0, EffectivePolicy.MaxStages + 1).Select(i => $"s{i}").ToList();
        var aliases = Enumerable.Range(0, EffectivePolicy.MaxListEntries + 1).Select(i => $"a{i}").ToList();

        var (_, problems) = Resolve(new WorkspacePolicySet(new LifecyclePolicy(stages, null, null, null, null),
            new ApprovalsPolicy(null, aliases, null, null)));

        Assert.Equal(["lifecycle.stages", "approvals.protectedAliases"], problems.Select(p => p.Field));
        Assert.Equal("lifecycle.stages",
            Assert.Single(Resolve(new WorkspacePolicySet(new LifecyclePolicy(["None", new string('x', 65)], null, null, null, null), null)).Problems).Field);
    }
}
