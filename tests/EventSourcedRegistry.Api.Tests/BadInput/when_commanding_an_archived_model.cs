using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_commanding_an_archived_model(AppFixture app) : BadInputTest(app)
{
    /// <summary>Every command but restore, each with a body it would accept for a live model.</summary>
    public static TheoryData<string, string?> Commands => new()
    {
        { "PATCH /api/v1/models/churn", """{"description":"x","setTags":{"team":"growth"}}""" },
        { "POST /api/v1/models/churn/rename", """{"newName":"churn2"}""" },
        { "POST /api/v1/models/churn/archive", "{}" },
        { "POST /api/v1/models/churn/versions", VersionBody },
        { "PATCH /api/v1/models/churn/versions/1", """{"description":"x"}""" },
        { "POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging"}""" },
        { "POST /api/v1/models/churn/versions/1/stage", """{"stage":"Archived"}""" },
        { "PUT /api/v1/models/churn/aliases/challenger", """{"version":1}""" },
        { "PUT /api/v1/models/churn/aliases/champion", """{"version":1}""" },
        { "DELETE /api/v1/models/churn/aliases/champion", null },
        { "POST /api/v1/models/churn/deployments", """{"version":1,"environment":"prod","action":"deployed"}""" },
        { "POST /api/v1/models/churn/rollback", """{"atSequence":0,"reason":"bad release"}""" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task every_command_but_restore_is_refused_with_409(string command, string? body)
    {
        await GivenArchivedChurn();
        var problem = await Refused(409, command, body);
        Assert.Contains("archived", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task restoring_a_model_that_is_not_archived_is_refused_with_409()
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(409, "POST /api/v1/models/churn/restore", "{}");
        Assert.Contains("not archived", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task its_name_stays_taken()
    {
        await GivenArchivedChurn();
        await Refused(409, "POST /api/v1/models", """{"name":"Churn"}""");
    }
}
