using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Tests.Validation;

public class when_checking_aliases
{
    public static TheoryData<string> ValidAliases => new("champion", "Champion", "blue-green_2", "v1", "latest",
        new string('a', InputRules.MaxAliasLength));

    [Theory]
    [MemberData(nameof(ValidAliases))]
    public void a_well_formed_alias_passes_the_shape_check(string alias)
    {
        Assert.Null(InputRules.CheckAlias(alias));
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData(null, "required")]
    [InlineData("2nd", "starts with a letter")]
    [InlineData("-canary", "starts with a letter")]
    [InlineData("champ ion", @"'\u0020'")]
    [InlineData("champ.ion", "'.'")]
    [InlineData("a/b", "'/'")]
    [InlineData("café", "'é'")]
    [InlineData("élan", "starts with a letter")]
    public void a_malformed_alias_is_refused_and_the_error_says_why(string? alias, string says)
    {
        Assert.Contains(says, InputRules.CheckAlias(alias));
    }

    [Fact]
    public void an_alias_one_character_too_long_is_refused()
    {
        Assert.Contains($"{InputRules.MaxAliasLength}", InputRules.CheckAlias(new string('a', InputRules.MaxAliasLength + 1)));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("LATEST")]
    [InlineData("v1")]
    [InlineData("V12")]
    [InlineData("v007")]
    public void latest_and_v_digits_are_reserved(string alias)
    {
        Assert.True(InputRules.IsReservedAlias(alias));
    }

    [Theory]
    [InlineData("v")]
    [InlineData("vx1")]
    [InlineData("v1a")]
    [InlineData("v-1")]
    [InlineData("latest1")]
    [InlineData("version")]
    [InlineData("champion")]
    public void other_names_are_not_reserved(string alias)
    {
        Assert.False(InputRules.IsReservedAlias(alias));
    }

    [Theory]
    [InlineData("v12", 12)]
    [InlineData("V3", 3)]
    [InlineData("v007", 7)]
    public void a_version_alias_names_its_number(string alias, int version)
    {
        Assert.Equal(version, InputRules.ReservedAliasVersion(alias));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("champion")]
    [InlineData("v99999999999")]
    public void other_aliases_name_no_number(string alias)
    {
        Assert.Null(InputRules.ReservedAliasVersion(alias));
    }

    [Fact]
    public void aliases_are_normalized_to_lower_case()
    {
        Assert.Equal(InputRules.NormalizeAlias("champion"), InputRules.NormalizeAlias("CHAMPION"));
        Assert.Equal("champion", InputRules.NormalizeAlias("Champion"));
    }
}
