using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_assigning_an_alias
{
    [Fact]
    public void a_new_alias_is_recorded_without_a_previous_version()
    {
        DecisionAssert.Accepted(ModelDecisions.AssignAlias(Given.Model(versions: 2), "champion", 2),
            new ModelAliasAssigned(Given.ModelId, "champion", 2, null));
    }

    [Fact]
    public void moving_an_alias_records_the_version_it_left()
    {
        var model = Given.Model(versions: 3).WithAlias("champion", 1);

        DecisionAssert.Accepted(ModelDecisions.AssignAlias(model, "champion", 3),
            new ModelAliasAssigned(Given.ModelId, "champion", 3, 1));
    }

    [Fact]
    public void the_alias_is_recorded_in_lower_case_and_matched_regardless_of_case()
    {
        var model = Given.Model(versions: 2).WithAlias("Champion", 1);
        Assert.Equal(1, model.Aliases["champion"]);

        var moved = DecisionAssert.Single<ModelAliasAssigned>(ModelDecisions.AssignAlias(model, "CHAMPION", 2));

        Assert.Equal(("champion", 1), (moved.Alias, moved.PreviousVersion));
    }

    [Theory]
    [InlineData("champion")]
    [InlineData("Champion")]
    public void assigning_an_alias_to_the_version_it_names_changes_nothing(string alias)
    {
        var model = Given.Model(versions: 2).WithAlias("champion", 2);

        DecisionAssert.Unchanged(ModelDecisions.AssignAlias(model, alias, 2));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("Latest")]
    [InlineData("v1")]
    [InlineData("V12")]
    [InlineData("v007")]
    public void a_reserved_alias_is_refused_and_named(string alias)
    {
        DecisionAssert.Rejected(ModelDecisions.AssignAlias(Given.Model(versions: 12), alias, 1),
            RejectionKind.Invalid, $"'{alias}'", "reserved");
    }

    [Theory]
    [InlineData("v")]
    [InlineData("v1-candidate")]
    [InlineData("version2")]
    [InlineData("latest-stable")]
    public void names_that_only_look_reserved_are_accepted(string alias)
    {
        var assigned = DecisionAssert.Single<ModelAliasAssigned>(ModelDecisions.AssignAlias(Given.Model(versions: 1), alias, 1));

        Assert.Equal(alias, assigned.Alias);
    }

    [Fact]
    public void an_unknown_version_is_not_found_and_the_detail_names_it()
    {
        DecisionAssert.Rejected(ModelDecisions.AssignAlias(Given.Model(versions: 2), "champion", 7),
            RejectionKind.NotFound, "version 7", "1 to 2");
    }

    [Fact]
    public void the_folded_model_has_the_alias_on_its_new_version()
    {
        var model = Given.Model(versions: 2).WithAlias("champion", 1).WithAlias("challenger", 2).WithAlias("champion", 2);

        Assert.Equal(new Dictionary<string, int> { ["champion"] = 2, ["challenger"] = 2 }, model.Aliases);
    }
}
