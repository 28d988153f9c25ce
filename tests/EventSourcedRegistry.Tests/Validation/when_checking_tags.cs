using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Tests.Validation;

public class when_checking_tags
{
    private static IReadOnlyDictionary<string, string> Tag(string key, string value) => new Dictionary<string, string> { [key] = value };

    // The limits are part of the API contract (the same as MLflow's), so they are spelled out here.
    private const int KeyLimit = 250;
    private const int ValueLimit = 5000;

    [Fact]
    public void a_key_of_250_and_a_value_of_5000_characters_pass()
    {
        var tags = Tag(new string('k', KeyLimit), new string('v', ValueLimit));

        Assert.Empty(InputRules.CheckTags(tags, "tags"));
    }

    [Fact]
    public void a_key_of_251_characters_is_refused_under_the_given_field()
    {
        var tags = Tag(new string('k', KeyLimit + 1), "v");

        var (field, error) = Assert.Single(InputRules.CheckTags(tags, "setTags"));

        Assert.Equal("setTags", field);
        Assert.Contains($"{KeyLimit}", error);
        Assert.Contains(new string('k', 40) + "…", error);
    }

    [Fact]
    public void a_value_of_5001_characters_is_refused_and_names_the_tag()
    {
        var (_, error) = Assert.Single(InputRules.CheckTags(Tag("owner", new string('v', ValueLimit + 1)), "tags"));

        Assert.Contains($"{ValueLimit}", error);
        Assert.Contains("'owner'", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void an_empty_key_is_refused(string key)
    {
        Assert.Contains("empty", Assert.Single(InputRules.CheckTags(Tag(key, "v"), "tags")).Error);
    }

    [Fact]
    public void a_key_with_a_control_character_is_refused()
    {
        Assert.Contains("control character", Assert.Single(InputRules.CheckTags(Tag("own\u0007er", "v"), "tags")).Error);
    }

    [Fact]
    public void each_offending_tag_gets_its_own_error()
    {
        var tags = new Dictionary<string, string>
        {
            [new string('k', KeyLimit + 1)] = "v",
            ["fine"] = "v",
            ["long-value"] = new string('v', ValueLimit + 1),
        };

        Assert.Equal(2, InputRules.CheckTags(tags, "tags").Count());
    }

    [Fact]
    public void no_tags_are_fine()
    {
        Assert.Empty(InputRules.CheckTags(null, "tags"));
    }

    [Fact]
    public void keys_to_remove_are_held_to_the_same_key_rules()
    {
        var keys = new[] { new string('k', KeyLimit), new string('k', KeyLimit + 1), " " };

        var errors = InputRules.CheckTagKeys(keys, "removeTags").ToList();

        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal("removeTags", e.Field));
    }

    [Fact]
    public void free_text_is_limited_to_its_maximum_and_the_error_says_what_and_how_much()
    {
        Assert.Null(InputRules.CheckText(new string('d', InputRules.MaxDescriptionLength), InputRules.MaxDescriptionLength, "A description"));
        Assert.Null(InputRules.CheckText(null, InputRules.MaxDescriptionLength, "A description"));

        var error = InputRules.CheckText(new string('d', InputRules.MaxDescriptionLength + 1), InputRules.MaxDescriptionLength, "A description");

        Assert.Contains("A description", error);
        Assert.Contains($"{InputRules.MaxDescriptionLength}", error);
    }
}
