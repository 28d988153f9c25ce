using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_removing_an_alias
{
    [Fact]
    public void the_alias_and_the_version_it_named_are_recorded()
    {
        var model = Given.Model(versions: 2).WithAlias("champion", 2);

        DecisionAssert.Accepted(ModelDecisions.RemoveAlias(model, "champion"), new ModelAliasRemoved(Given.ModelId, "champion", 2));
    }

    [Fact]
    public void the_alias_is_matched_regardless_of_case()
    {
        var model = Given.Model(versions: 1).WithAlias("champion", 1);

        Assert.Equal("champion", DecisionAssert.Single<ModelAliasRemoved>(ModelDecisions.RemoveAlias(model, "Champion")).Alias);
    }

    [Fact]
    public void an_alias_the_model_does_not_have_is_not_found_and_named()
    {
        var model = Given.Model(versions: 1).WithAlias("champion", 1);

        DecisionAssert.Rejected(ModelDecisions.RemoveAlias(model, "challenger"), RejectionKind.NotFound, Given.ModelName, "'challenger'");
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("v1")]
    [InlineData("V12")]
    public void a_reserved_alias_cannot_be_removed(string alias)
    {
        DecisionAssert.Rejected(ModelDecisions.RemoveAlias(Given.Model(versions: 12), alias), RejectionKind.Invalid, $"'{alias}'", "reserved");
    }

    [Fact]
    public void the_folded_model_no_longer_has_the_alias_and_keeps_the_others()
    {
        var model = Given.Model(versions: 2).WithAlias("champion", 2).WithAlias("challenger", 1)
            .Then(m => ModelDecisions.RemoveAlias(m, "champion"));

        Assert.Equal(new Dictionary<string, int> { ["challenger"] = 1 }, model.Aliases);
    }
}
