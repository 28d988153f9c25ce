using System.Text;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Tests.Audit;

/// <summary>
/// The door's rule (issue 13): client JSON the hash chain or the store cannot keep exactly is refused, naming the
/// field; everything else passes untouched.
/// </summary>
public class when_checking_client_json_against_the_canonical_form
{
    private static InputProblem? Check(string json) => CanonicalInput.Check(Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData("""{"metadata":{"x":1e400}}""", "metadata.x", "outside the range")]
    [InlineData("""{"metadata":{"x":-1e400}}""", "metadata.x", "outside the range")]
    [InlineData("""{"metadata":{"x":1.7976931348623159e308}}""", "metadata.x", "outside the range")]
    [InlineData("""{"metadata":{"x":1e-400}}""", "metadata.x", "too small")]
    [InlineData("""{"metadata":{"x":2e-324}}""", "metadata.x", "too small")]
    [InlineData("""{"metadata":{"seed":9007199254740993}}""", "metadata.seed", "more precision")]
    [InlineData("""{"metadata":{"pi":3.14159265358979323846}}""", "metadata.pi", "more precision")]
    [InlineData("""{"metrics":{"auc":0.1},"metadata":{"list":[1,2,{"deep":[0,1e999]}]}}""", "metadata.list[2].deep[1]", "outside the range")]
    [InlineData("""{"schema":{"properties":{"a.b":{"maximum":1e400}}}}""", "schema.properties['a.b'].maximum", "outside the range")]
    [InlineData("""[1e400]""", "[0]", "outside the range")]
    [InlineData("""1e400""", "body", "outside the range")]
    public void a_number_a_double_cannot_hold_is_refused_at_its_field(string json, string field, string why)
    {
        var problem = Check(json);

        Assert.NotNull(problem);
        Assert.Equal(field, problem.Field);
        Assert.Contains(why, problem.Detail);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("0.0e-999")]
    [InlineData("0.1")]
    [InlineData("4.50")]
    [InlineData("1E30")]
    [InlineData("1e300")]
    [InlineData("-1.7976931348623157e308")]
    [InlineData("5e-324")]
    [InlineData("9007199254740992")]
    [InlineData("0.30000000000000004")]
    [InlineData("123456789012345680000")]
    [InlineData("333333333.3333333")]
    public void a_number_a_double_holds_exactly_passes(string number) =>
        Assert.Null(Check("{\"metadata\":{\"x\":" + number + "}}"));

    [Theory]
    [InlineData("""{"reason":"\ud800"}""", "reason", "unpaired")]
    [InlineData("""{"tags":{"a":"x\udc00y"}}""", "tags.a", "unpaired")]
    [InlineData("""{"tags":{"\ud83d":"x"}}""", "tags", "unpaired")]
    [InlineData("""{"description":"a\u0000b"}""", "description", "NUL")]
    [InlineData("""{"metadata":{"a\u0000":1}}""", "metadata", "NUL")]
    [InlineData("""{"metadata":{"x":1,"x":2}}""", "metadata.x", "twice")]
    [InlineData("""{"reason":"a","reason":"b"}""", "reason", "twice")]
    [InlineData("""{"a":{"b":[{"c":1,"c":1}]}}""", "a.b[0].c", "twice")]
    [InlineData("""{"a":1,}""", "body", "not valid JSON")]
    [InlineData("""{"a":NaN}""", "body", "not valid JSON")]
    [InlineData("""{"a":Infinity}""", "body", "not valid JSON")]
    [InlineData("""{"a":1} {"b":2}""", "body", "not valid JSON")]
    [InlineData("""{"a":1 /* c */}""", "body", "not valid JSON")]
    public void a_value_the_store_or_the_chain_cannot_keep_is_refused_at_its_field(string json, string field, string why)
    {
        var problem = Check(json);

        Assert.NotNull(problem);
        Assert.Equal(field, problem.Field);
        Assert.Contains(why, problem.Detail);
    }

    [Fact]
    public void nesting_past_the_limit_is_refused_and_up_to_it_passes()
    {
        var deepest = new string('[', CanonicalInput.MaxDepth) + new string(']', CanonicalInput.MaxDepth);
        var deeper = "{\"metadata\":" + new string('[', CanonicalInput.MaxDepth) + new string(']', CanonicalInput.MaxDepth) + "}";

        Assert.Null(Check(deepest));
        var problem = Check(deeper);
        Assert.NotNull(problem);
        Assert.StartsWith("metadata", problem.Field);
        Assert.Contains("nested", problem.Detail);
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0xAF }, 13)]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, 13)]
    [InlineData(new byte[] { 0xFF }, 13)]
    [InlineData(new byte[] { 0xE2, 0x82 }, 13)]
    public void bytes_that_are_not_utf8_are_refused_naming_where(byte[] bad, int at)
    {
        var body = Encoding.UTF8.GetBytes("""{"reason":"x"}""").ToList();
        body.InsertRange(at - 1, bad);

        var problem = CanonicalInput.Check(body.ToArray());

        Assert.NotNull(problem);
        Assert.Equal("body", problem.Field);
        Assert.Contains($"at byte {at - 1}", problem.Detail);
    }

    [Theory]
    [InlineData("""{"reason":"=HYPERLINK(\"http://x\")","description":"+1-1@\t\r"}""")]
    [InlineData("""{"reason":"\u202eevil\u200b\u200f\ufeff","tags":{"path":"../../etc/passwd","enc":"%2e%2e/sha256:.."}}""")]
    [InlineData("""{"metadata":{"😀":"𝄞","a":{"A":1,"a":2},"list":[[],{},null,true,false,""]}}""")]
    [InlineData("""{"metadata":{"\ud83d\ude00":"\u00e9"}}""")]
    [InlineData("null")]
    [InlineData("  {\"a\" : [ 1 , 2 ] }  ")]
    public void legitimate_json_passes_untouched(string json) => Assert.Null(Check(json));

    /// <summary>Written as C# escapes: xUnit would turn an unpaired surrogate in theory data into U+FFFD.</summary>
    [Theory]
    [InlineData(@"a\u0000b", "NUL")]
    [InlineData(@"\u0000", "NUL")]
    [InlineData(@"a\ud800b", "unpaired")]
    [InlineData(@"\udfff", "unpaired")]
    [InlineData(@"x\ude00\ud83d", "unpaired")]
    [InlineData(@"\ud83d", "unpaired")]
    public void text_postgresql_cannot_keep_is_named(string escaped, string why) =>
        Assert.Contains(why, CanonicalInput.TextProblem(System.Text.RegularExpressions.Regex.Unescape(escaped)));

    [Theory]
    [InlineData(@"")]
    [InlineData(@"plain")]
    [InlineData(@"\ud83d\ude00 𝄞 é \u202e \t\r\n \u0001")]
    public void any_other_text_passes(string escaped) =>
        Assert.Null(CanonicalInput.TextProblem(System.Text.RegularExpressions.Regex.Unescape(escaped)));

    [Fact]
    public void the_deepest_accepted_input_still_canonicalises_inside_the_wrappers_it_is_stored_and_served_in()
    {
        var value = new string('[', CanonicalInput.MaxDepth - 1) + new string(']', CanonicalInput.MaxDepth - 1);
        Assert.Null(Check("{\"metadata\":" + value + "}"));
        // An event in a history page in an export line: a handful of levels; the stored limit leaves far more room.
        var wrapped = string.Concat(Enumerable.Repeat("{\"w\":", 8)) + "{\"metadata\":" + value + "}" + new string('}', 8);

        Assert.NotEmpty(CanonicalJson.Canonicalize(wrapped));
        Assert.True(CanonicalInput.StoredMaxDepth >= CanonicalInput.MaxDepth + 16);
    }

    [Fact]
    public void a_byte_order_mark_before_the_json_is_allowed_as_system_text_json_allows_it() =>
        Assert.Null(CanonicalInput.Check([0xEF, 0xBB, 0xBF, .. "{\"a\":1}"u8]));
}
