using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Tests.Validation;

public class when_checking_model_names
{
    public static TheoryData<string> ValidNames => new(
        "churn-predictor",
        "Churn_Predictor.v2",
        "7up",
        "a",
        "modèle-de-prévision",
        "मॉडल-हिंदी",
        "Größenmodell",
        "模型",
        "μοντέλο.v1",
        "модель_2",
        new string('a', 128));

    [Theory]
    [MemberData(nameof(ValidNames))]
    public void a_valid_name_passes(string name)
    {
        Assert.Null(InputRules.CheckModelName(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void a_missing_name_is_required(string? name)
    {
        Assert.Contains("required", InputRules.CheckModelName(name));
    }

    [Fact]
    public void a_name_of_129_characters_is_refused_with_both_lengths()
    {
        var error = InputRules.CheckModelName(new string('a', 129));

        Assert.Contains("128", error);
        Assert.Contains("129", error);
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData("model..")]
    public void a_double_dot_is_refused(string name)
    {
        Assert.Contains("'..'", InputRules.CheckModelName(name));
    }

    [Theory]
    [InlineData("-model")]
    [InlineData(".model")]
    [InlineData("_model")]
    public void a_name_starts_with_a_letter_or_digit(string name)
    {
        Assert.Contains("starts with", InputRules.CheckModelName(name));
    }

    [Theory]
    [InlineData("team/model", "'/'")]
    [InlineData("my model", @"'\u0020'")]
    [InlineData("my\tmodel", @"'\u0009'")]
    [InlineData("my\nmodel", @"'\u000a'")]
    [InlineData("my\0model", @"'\u0000'")]
    [InlineData("model:1", "':'")]
    [InlineData("model%2F", "'%'")]
    public void a_character_outside_letters_digits_dot_underscore_and_dash_is_refused_and_shown(string name, string shown)
    {
        Assert.Contains(shown, InputRules.CheckModelName(name));
    }

    [Fact]
    public void names_differing_only_in_case_share_one_normalized_key()
    {
        Assert.Equal(InputRules.NormalizeName("Churn-Predictor"), InputRules.NormalizeName("CHURN-predictor"));
        Assert.NotEqual(InputRules.NormalizeName("churn-predictor"), InputRules.NormalizeName("churn_predictor"));
    }
}
