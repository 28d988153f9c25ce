namespace EventSourcedRegistry.Tests.Lifecycle;

public class when_using_the_default_lifecycle
{
    private static readonly LifecycleGraph Graph = LifecycleGraph.Default;

    private static readonly string[] Working = [LifecycleGraph.None, LifecycleGraph.Staging, LifecycleGraph.Production];

    public static TheoryData<string, string> MovesAmongWorkingStages
    {
        get
        {
            var moves = new TheoryData<string, string>();
            foreach (var from in Working)
            foreach (var to in Working.Where(to => to != from))
                moves.Add(from, to);
            return moves;
        }
    }

    public static TheoryData<string> WorkingStages => new(Working);

    [Fact]
    public void the_stages_are_none_staging_production_and_archived_in_that_order()
    {
        Assert.Equal([LifecycleGraph.None, LifecycleGraph.Staging, LifecycleGraph.Production, LifecycleGraph.Archived], Graph.Stages);
        Assert.Equal(LifecycleGraph.None, Graph.InitialStage);
        Assert.Equal(LifecycleGraph.Archived, Graph.ArchiveStage);
    }

    [Theory]
    [MemberData(nameof(MovesAmongWorkingStages))]
    public void none_staging_and_production_move_freely_among_each_other(string from, string to)
    {
        Assert.True(Graph.Allows(from, to));
    }

    [Theory]
    [MemberData(nameof(WorkingStages))]
    public void any_stage_may_go_to_archived(string from)
    {
        Assert.True(Graph.Allows(from, LifecycleGraph.Archived));
        Assert.Contains(LifecycleGraph.Archived, Graph.AllowedFrom(from));
    }

    [Fact]
    public void archived_goes_back_to_none_only()
    {
        Assert.Equal([LifecycleGraph.None], Graph.AllowedFrom(LifecycleGraph.Archived));
        Assert.True(Graph.Allows(LifecycleGraph.Archived, LifecycleGraph.None));
        Assert.False(Graph.Allows(LifecycleGraph.Archived, LifecycleGraph.Staging));
        Assert.False(Graph.Allows(LifecycleGraph.Archived, LifecycleGraph.Production));
    }

    [Fact]
    public void no_stage_lists_itself_as_a_move()
    {
        Assert.All(Graph.Stages, stage => Assert.DoesNotContain(stage, Graph.AllowedFrom(stage)));
    }

    [Fact]
    public void moves_are_matched_regardless_of_case()
    {
        Assert.True(Graph.Allows("staging", "PRODUCTION"));
        Assert.False(Graph.Allows("archived", "production"));
    }

    [Theory]
    [InlineData("production", LifecycleGraph.Production)]
    [InlineData("STAGING", LifecycleGraph.Staging)]
    [InlineData("aRcHiVeD", LifecycleGraph.Archived)]
    [InlineData("None", LifecycleGraph.None)]
    public void resolve_returns_the_configured_spelling(string given, string expected)
    {
        Assert.Equal(expected, Graph.Resolve(given));
    }

    [Theory]
    [InlineData("Prod")]
    [InlineData("")]
    [InlineData(" Production")]
    [InlineData(null)]
    public void resolve_returns_nothing_for_a_name_that_is_not_a_stage(string? given)
    {
        Assert.Null(Graph.Resolve(given));
    }

    [Fact]
    public void an_unknown_stage_allows_no_moves()
    {
        Assert.False(Graph.Allows("Canary", LifecycleGraph.Production));
        Assert.Empty(Graph.AllowedFrom("Canary"));
    }
}
