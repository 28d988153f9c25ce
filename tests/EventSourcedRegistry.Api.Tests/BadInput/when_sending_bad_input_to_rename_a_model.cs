using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_input_to_rename_a_model(AppFixture app) : BadInputTest(app)
{
    [Theory]
    [MemberData(nameof(BadNames.All), MemberType = typeof(BadNames))]
    public async Task a_new_name_that_breaks_the_naming_rule_is_refused_with_400(string name)
    {
        await GivenChurn(versions: 1);
        await Refused(400, "POST /api/v1/models/churn/rename", $$"""{"newName":"{{name}}"}""", "newName");
    }

    [Fact]
    public async Task a_new_name_another_model_holds_in_any_case_is_refused_with_409()
    {
        await GivenChurn();
        await Host.RegisterModel("fraud");
        var problem = await Refused(409, "POST /api/v1/models/churn/rename", """{"newName":"FRAUD"}""");
        Assert.Contains("already exists", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_reason_over_2000_characters_is_refused_with_400()
    {
        await GivenChurn();
        await Refused(400, "POST /api/v1/models/churn/rename", $$"""{"newName":"churn2","reason":"{{new string('r', 2001)}}"}""", "reason");
    }
}
