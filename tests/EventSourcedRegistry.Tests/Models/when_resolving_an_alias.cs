using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

public class when_resolving_an_alias
{
    [Fact]
    public void latest_follows_the_newest_version()
    {
        var model = Given.Model(versions: 3);
        Assert.Equal(3, ModelDecisions.ResolveAlias(model, "latest"));

        model = model.RegisterVersion();
        Assert.Equal(4, ModelDecisions.ResolveAlias(model, "Latest"));
    }

    [Fact]
    public void latest_resolves_to_nothing_before_the_first_version()
    {
        Assert.Null(ModelDecisions.ResolveAlias(Given.Model(), "latest"));
    }

    [Theory]
    [InlineData("v2", 2)]
    [InlineData("V2", 2)]
    [InlineData("v02", 2)]
    [InlineData("v3", 3)]
    public void v_n_resolves_to_that_version(string alias, int expected)
    {
        Assert.Equal(expected, ModelDecisions.ResolveAlias(Given.Model(versions: 3), alias));
    }

    [Theory]
    [InlineData("v0")]
    [InlineData("v4")]
    [InlineData("v99999999999")]
    public void v_n_resolves_to_nothing_when_there_is_no_such_version(string alias)
    {
        Assert.Null(ModelDecisions.ResolveAlias(Given.Model(versions: 3), alias));
    }

    [Fact]
    public void a_set_alias_resolves_to_its_version_regardless_of_case()
    {
        var model = Given.Model(versions: 3).WithAlias("champion", 2);

        Assert.Equal(2, ModelDecisions.ResolveAlias(model, "champion"));
        Assert.Equal(2, ModelDecisions.ResolveAlias(model, "CHAMPION"));
    }

    [Fact]
    public void a_moved_alias_resolves_to_its_new_version_and_a_removed_one_to_nothing()
    {
        var model = Given.Model(versions: 3).WithAlias("champion", 1).WithAlias("champion", 3);
        Assert.Equal(3, ModelDecisions.ResolveAlias(model, "champion"));

        model = model.Then(m => ModelDecisions.RemoveAlias(m, "champion"));
        Assert.Null(ModelDecisions.ResolveAlias(model, "champion"));
    }

    [Fact]
    public void an_unknown_alias_resolves_to_nothing()
    {
        Assert.Null(ModelDecisions.ResolveAlias(Given.Model(versions: 3).WithAlias("champion", 1), "challenger"));
    }
}
