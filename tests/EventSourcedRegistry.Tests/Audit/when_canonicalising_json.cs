using System.Text;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Tests.Audit;

/// <summary>RFC 8785 (JSON Canonicalization Scheme), checked against the RFC's own examples.</summary>
public class when_canonicalising_json
{
    private static string Canonical(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(json));

    [Fact]
    public void the_rfc_8785_example_canonicalises_as_the_rfc_shows()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;

        Assert.Equal("""{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""",
            Canonical(input));
    }

    [Fact]
    public void members_are_sorted_by_their_names_utf16_code_units()
    {
        const string input = """
            {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
             "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
            """;

        var canonical = System.Text.Json.JsonDocument.Parse(Canonical(input)).RootElement.EnumerateObject().Select(p => p.Value.GetString());

        Assert.Equal(["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign", "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh"], canonical);
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("1.0", "1")]
    [InlineData("-1.5", "-1.5")]
    [InlineData("0.1", "0.1")]
    [InlineData("123.456e3", "123456")]
    [InlineData("1e20", "100000000000000000000")]
    [InlineData("1e21", "1e+21")]
    [InlineData("123456789012345678901", "123456789012345680000")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("0.000001234", "0.000001234")]
    [InlineData("1e-7", "1e-7")]
    [InlineData("-1.25e-7", "-1.25e-7")]
    [InlineData("5e-324", "5e-324")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("9007199254740993", "9007199254740992")]
    public void numbers_take_the_ecmascript_form_of_the_nearest_double(string raw, string canonical) =>
        Assert.Equal(canonical, CanonicalJson.Number(raw));

    [Fact]
    public void whitespace_key_order_and_escapes_do_not_change_the_canonical_form()
    {
        var jsonb = """{"name": "caf\u00e9", "tags": {"b": "2", "a": "1"}, "version": 2}""";
        var compact = """{"version":2.0,"tags":{"a":"1","b":"2"},"name":"café"}""";

        Assert.Equal(Canonical(compact), Canonical(jsonb));
        Assert.Equal("""{"name":"café","tags":{"a":"1","b":"2"},"version":2}""", Canonical(jsonb));
    }

    [Fact]
    public void control_characters_are_escaped_and_everything_else_is_literal()
    {
        Assert.Equal("\"a\\u001fb\\tc\u2028d/é\"", Canonical("\"a\\u001Fb\\tc\\u2028d\\/\\u00e9\""));
    }

    /// <summary>
    /// Regression (issue 13): the API stored <c>{"x": 1e400}</c> and the chain projection threw on it for good. Numbers
    /// past a double's range now have an exact form of their own; before the extension they had no hash at all.
    /// </summary>
    [Theory]
    [InlineData("1e400", "1e+400")]
    [InlineData("10E399", "1e+400")]
    [InlineData("-1e400", "-1e+400")]
    [InlineData("123.456e400", "1.23456e+402")]
    [InlineData("1.7976931348623159e308", "1.7976931348623159e+308")]
    [InlineData("0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001e500", "1e+394")]
    public void a_number_beyond_a_double_is_written_as_its_exact_value(string raw, string canonical) =>
        Assert.Equal(canonical, CanonicalJson.Number(raw));

    [Fact]
    public void postgresql_spells_1e400_as_401_digits_and_it_reads_as_the_same_number()
    {
        Assert.Equal("1e+400", CanonicalJson.Number("1" + new string('0', 400)));
        Assert.Equal("""{"metadata":{"x":1e+400}}""", Canonical("""{"metadata": {"x": 1""" + new string('0', 400) + "}}"));
    }

    [Fact]
    public void a_number_beyond_a_double_never_takes_the_form_of_one()
    {
        // The largest double, and the smallest value past it: different forms, and the second is not a double's.
        Assert.Equal("1.7976931348623157e+308", CanonicalJson.Number("1.7976931348623157e308"));
        Assert.Equal("1.797693134862315808e+308", CanonicalJson.Number("1.797693134862315808e308"));
        Assert.True(double.IsInfinity(double.Parse("1.797693134862315808e308", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
