using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_input_to_edit_a_model(AppFixture app) : BadInputTest(app)
{
    [Theory]
    [InlineData(251, 1)]
    [InlineData(1, 5001)]
    [InlineData(0, 1)]
    public async Task a_tag_key_over_250_or_a_value_over_5000_characters_is_refused_with_400(int keyLength, int valueLength)
    {
        await GivenChurn();
        await Refused(400, "PATCH /api/v1/models/churn",
            $$$"""{"setTags":{"{{{new string('k', keyLength)}}}":"{{{new string('v', valueLength)}}}"}}""", "setTags");
    }

    [Theory]
    [InlineData(251)]
    [InlineData(0)]
    public async Task a_tag_key_to_remove_that_cannot_be_a_key_is_refused_with_400(int keyLength)
    {
        await GivenChurn();
        await Refused(400, "PATCH /api/v1/models/churn", $$"""{"removeTags":["{{new string('k', keyLength)}}"]}""", "removeTags");
    }

    [Fact]
    public async Task a_tag_both_set_and_removed_is_refused_with_400()
    {
        await GivenChurn();
        await Refused(400, "PATCH /api/v1/models/churn", """{"setTags":{"team":"growth"},"removeTags":["team"]}""", "removeTags");
    }

    [Fact]
    public async Task a_description_over_5000_characters_is_refused_with_400()
    {
        await GivenChurn();
        await Refused(400, "PATCH /api/v1/models/churn", $$"""{"description":"{{new string('d', 5001)}}"}""", "description");
    }

    [Fact]
    public async Task a_tag_key_of_250_and_a_value_of_5000_characters_are_accepted()
    {
        await GivenChurn();
        var response = await Call("PATCH /api/v1/models/churn", $$$"""{"setTags":{"{{{new string('k', 250)}}}":"{{{new string('v', 5000)}}}"}}""");
        Assert.Equal(200, response.Status);
        Assert.Equal("\"2\"", response.ETag);
        Assert.Equal(2, await Store.StreamLength(Churn));
    }
}
