using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_input_to_edit_a_model_version(AppFixture app) : BadInputTest(app)
{
    private const string Url = "PATCH /api/v1/models/churn/versions/1";

    [Theory]
    [InlineData(251, 1)]
    [InlineData(1, 5001)]
    [InlineData(0, 1)]
    public async Task a_tag_key_over_250_or_a_value_over_5000_characters_is_refused_with_400(int keyLength, int valueLength)
    {
        await GivenChurn(versions: 1);
        await Refused(400, Url, $$$"""{"setTags":{"{{{new string('k', keyLength)}}}":"{{{new string('v', valueLength)}}}"}}""", "setTags");
    }

    [Fact]
    public async Task a_tag_key_to_remove_over_250_characters_is_refused_with_400()
    {
        await GivenChurn(versions: 1);
        await Refused(400, Url, $$"""{"removeTags":["{{new string('k', 251)}}"]}""", "removeTags");
    }

    [Fact]
    public async Task a_tag_both_set_and_removed_is_refused_with_400()
    {
        await GivenChurn(versions: 1);
        await Refused(400, Url, """{"setTags":{"team":"growth"},"removeTags":["team"]}""", "removeTags");
    }

    [Fact]
    public async Task a_description_over_5000_characters_is_refused_with_400()
    {
        await GivenChurn(versions: 1);
        await Refused(400, Url, $$"""{"description":"{{new string('d', 5001)}}"}""", "description");
    }

    [Fact]
    public async Task a_tag_key_of_250_and_a_value_of_5000_characters_are_accepted()
    {
        await GivenChurn(versions: 1);
        var response = await Call(Url, $$$"""{"setTags":{"{{{new string('k', 250)}}}":"{{{new string('v', 5000)}}}"}}""");
        Assert.Equal(200, response.Status);
        Assert.Equal(new string('v', 5000), response.Body!["tags"]![new string('k', 250)]!.GetValue<string>());
        Assert.Equal(3, await Store.StreamLength(Churn));
    }
}
