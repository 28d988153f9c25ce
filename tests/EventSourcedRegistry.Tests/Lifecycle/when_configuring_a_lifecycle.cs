using EventSourcedRegistry.Lifecycle;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Lifecycle;

public class when_configuring_a_lifecycle
{
    private static LifecycleOptions Review() => new()
    {
        Stages = ["Draft", "Review", "Live", "Retired"],
        Transitions = new()
        {
            ["Draft"] = ["Review"],
            ["Review"] = ["Live", "Draft"],
            ["Live"] = ["Retired"],
            ["Retired"] = [],
        },
    };

    [Fact]
    public void the_configured_stages_and_transitions_are_the_graph()
    {
        var graph = LifecycleGraph.From(Review());

        Assert.Equal(["Draft", "Review", "Live", "Retired"], graph.Stages);
        Assert.True(graph.Allows("Draft", "Review"));
        Assert.False(graph.Allows("Draft", "Live"));
        Assert.False(graph.Allows("Live", "Review"));
        Assert.Empty(graph.AllowedFrom("Retired"));
    }

    [Fact]
    public void allowed_moves_are_listed_in_stage_order_not_configuration_order()
    {
        Assert.Equal(["Draft", "Live"], LifecycleGraph.From(Review()).AllowedFrom("Review"));
    }

    [Fact]
    public void without_explicit_initial_and_archive_stages_the_first_and_last_stage_are_used()
    {
        var graph = LifecycleGraph.From(Review());

        Assert.Equal(("Draft", "Retired"), (graph.InitialStage, graph.ArchiveStage));
    }

    [Fact]
    public void explicit_initial_and_archive_stages_are_honoured_in_the_configured_spelling()
    {
        var options = Review();
        options.InitialStage = "review";
        options.ArchiveStage = "DRAFT";

        var graph = LifecycleGraph.From(options);

        Assert.Equal(("Review", "Draft"), (graph.InitialStage, graph.ArchiveStage));
    }

    [Fact]
    public void transitions_are_matched_to_stages_regardless_of_case()
    {
        var graph = LifecycleGraph.From(new LifecycleOptions
        {
            Stages = ["Draft", "Live"],
            Transitions = new() { ["draft"] = ["LIVE"] },
        });

        Assert.True(graph.Allows("Draft", "Live"));
        Assert.Equal(["Live"], graph.AllowedFrom("Draft"));
    }

    [Fact]
    public void resolve_returns_the_configured_spelling_of_a_custom_stage()
    {
        var graph = LifecycleGraph.From(Review());

        Assert.Equal("Live", graph.Resolve("LIVE"));
        Assert.Null(graph.Resolve(LifecycleGraph.Production));
    }

    [Fact]
    public void custom_stages_without_transitions_get_the_default_shape()
    {
        var graph = LifecycleGraph.From(new LifecycleOptions { Stages = ["Dev", "Canary", "Prod", "Retired"] });

        Assert.Equal(["Canary", "Prod", "Retired"], graph.AllowedFrom("Dev"));
        Assert.Equal(["Dev", "Prod", "Retired"], graph.AllowedFrom("Canary"));
        Assert.Equal(["Dev"], graph.AllowedFrom("Retired"));
    }

    [Fact]
    public void decisions_follow_the_configured_graph()
    {
        var graph = LifecycleGraph.From(Review());
        var model = Given.Model(versions: 1, graph);
        Assert.Equal("Draft", model.StageOf(1));

        DecisionAssert.Rejected(ModelDecisions.TransitionStage(model, graph, 1, "live", null, false),
            RejectionKind.Conflict, "Draft", "Live", "may go to: Review.");

        var moved = DecisionAssert.Single<ModelVersionStageTransitioned>(ModelDecisions.TransitionStage(model, graph, 1, "review", null, false));
        Assert.Equal(("Draft", "Review"), (moved.FromStage, moved.ToStage));
    }

    [Fact]
    public void a_stage_from_which_nothing_is_allowed_says_nowhere()
    {
        var graph = LifecycleGraph.From(Review());
        var model = Given.Model(versions: 1, graph).InStage(1, "Review", graph).InStage(1, "Live", graph).InStage(1, "Retired", graph);

        DecisionAssert.Rejected(ModelDecisions.TransitionStage(model, graph, 1, "Draft", null, false), RejectionKind.Conflict, "nowhere");
    }

    private static readonly Dictionary<string, (LifecycleOptions Options, string Named)> Invalid = new()
    {
        ["transition from an unknown stage"] = (new() { Stages = ["Draft", "Live"], Transitions = new() { ["Canary"] = ["Live"] } }, "'Canary'"),
        ["transition to an unknown stage"] = (new() { Stages = ["Draft", "Live"], Transitions = new() { ["Draft"] = ["Canary"] } }, "'Canary'"),
        ["transition to a default stage the custom list lacks"] = (new() { Stages = ["Draft", "Live"], Transitions = new() { ["Draft"] = ["Production"] } }, "'Production'"),
        ["duplicate stage"] = (new() { Stages = ["Draft", "Live", "Draft"] }, "twice"),
        ["duplicate stage in another case"] = (new() { Stages = ["Draft", "Live", "live"] }, "twice"),
        ["unknown initial stage"] = (new() { Stages = ["Draft", "Live"], InitialStage = "Canary" }, "'Canary'"),
        ["unknown archive stage"] = (new() { ArchiveStage = "Retired" }, "'Retired'"),
    };

    public static TheoryData<string> InvalidConfigurations => new(Invalid.Keys);

    [Theory]
    [MemberData(nameof(InvalidConfigurations))]
    public void an_invalid_configuration_throws_and_names_the_problem(string problem)
    {
        var (options, named) = Invalid[problem];

        var error = Assert.Throws<InvalidOperationException>(() => LifecycleGraph.From(options));

        Assert.Contains(named, error.Message);
        Assert.Contains(LifecycleOptions.Section, error.Message);
    }
}
