using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_input_to_register_a_model(AppFixture app) : BadInputTest(app)
{
    [Theory]
    [MemberData(nameof(BadNames.All), MemberType = typeof(BadNames))]
    public async Task a_name_that_breaks_the_naming_rule_is_refused_with_400(string name)
    {
        await GivenChurn();
        await Refused(400, "POST /api/v1/models", $$"""{"name":"{{name}}"}""", "name");
    }

    [Fact]
    public async Task a_name_of_128_characters_is_accepted()
    {
        var name = new string('m', 128);
        await Host.RegisterModel(name);
        Assert.Equal(1, await Store.StreamLength(name));
    }

    [Theory]
    [InlineData(251, 1)]
    [InlineData(1, 5001)]
    [InlineData(0, 1)]
    public async Task a_tag_key_over_250_or_a_value_over_5000_characters_is_refused_with_400(int keyLength, int valueLength)
    {
        await GivenChurn();
        await Refused(400, "POST /api/v1/models",
            $$$"""{"name":"fraud","tags":{"{{{new string('k', keyLength)}}}":"{{{new string('v', valueLength)}}}"}}""", "tags");
    }

    [Fact]
    public async Task a_tag_key_of_250_and_a_value_of_5000_characters_are_accepted()
    {
        var response = await Host.RegisterModel("fraud", new Dictionary<string, string> { [new string('k', 250)] = new('v', 5000) });
        Assert.Equal(new string('v', 5000), response.Body!["tags"]![new string('k', 250)]!.GetValue<string>());
    }

    [Fact]
    public async Task a_description_over_5000_characters_is_refused_with_400() =>
        await Refused(400, "POST /api/v1/models", $$"""{"name":"fraud","description":"{{new string('d', 5001)}}"}""", "description");

    [Fact]
    public async Task an_idempotency_key_over_200_characters_is_refused_with_400() =>
        await Refused(400, "POST /api/v1/models", """{"name":"fraud"}""",
            headers: new Dictionary<string, string> { ["Idempotency-Key"] = new('k', 201) });
}
