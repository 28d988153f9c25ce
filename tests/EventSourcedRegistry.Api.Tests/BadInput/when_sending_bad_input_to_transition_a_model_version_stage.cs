using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_input_to_transition_a_model_version_stage(AppFixture app) : BadInputTest(app)
{
    [Theory]
    [InlineData("Bogus")]
    [InlineData("Prod")]
    [InlineData("Production ")]
    [InlineData("None,Staging")]
    [InlineData("StagingStagingStagingStagingStagingStagingStagingStagingStagingStaging")]
    public async Task an_unknown_stage_is_refused_with_400_naming_the_stages(string stage)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(400, "POST /api/v1/models/churn/versions/1/stage", $$"""{"stage":"{{stage}}"}""", "stage");
        Assert.Contains("Production", problem["detail"]!.GetValue<string>());
    }

    /// <summary>NUL never reaches the stage check: PostgreSQL cannot store it, so the JSON door refuses it first.</summary>
    [Fact]
    public async Task a_stage_with_a_nul_character_is_refused_at_the_json_door()
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(400, "POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging\u0000"}""", "stage");
        Assert.Contains("NUL", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("production")]
    public async Task a_transition_the_lifecycle_forbids_is_refused_with_409(string stage)
    {
        await GivenChurn(versions: 1);
        Assert.Equal(200, (await Host.Promote(Churn, 1, "Archived")).Status);

        var problem = await Refused(409, "POST /api/v1/models/churn/versions/1/stage", $$"""{"stage":"{{stage}}","archiveExisting":true}""");
        Assert.Contains("from Archived", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_reason_over_2000_characters_is_refused_with_400()
    {
        await GivenChurn(versions: 1);
        await Refused(400, "POST /api/v1/models/churn/versions/1/stage", $$"""{"stage":"Staging","reason":"{{new string('r', 2001)}}"}""", "reason");
    }
}
