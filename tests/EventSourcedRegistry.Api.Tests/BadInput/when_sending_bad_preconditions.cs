using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_preconditions(AppFixture app) : BadInputTest(app)
{
    /// <summary>Commands that would succeed on churn with versions 1 and 2 and alias champion → 1.</summary>
    public static readonly (string Command, string? Body)[] Commands =
    [
        ("PATCH /api/v1/models/churn", """{"description":"x"}"""),
        ("POST /api/v1/models/churn/rename", """{"newName":"churn2"}"""),
        ("POST /api/v1/models/churn/archive", "{}"),
        ("POST /api/v1/models/churn/versions", VersionBody),
        ("PATCH /api/v1/models/churn/versions/1", """{"description":"x"}"""),
        ("POST /api/v1/models/churn/versions/1/stage", """{"stage":"Production","archiveExisting":true}"""),
        ("PUT /api/v1/models/churn/aliases/champion", """{"version":2}"""),
        ("DELETE /api/v1/models/churn/aliases/champion", null),
        ("POST /api/v1/models/churn/deployments", """{"version":1,"environment":"prod","action":"deployed"}"""),
    ];

    private static readonly string[] MalformedIfMatch = ["abc", "W/\"3\"", "\"x\"", "3", "\"3\", \"4\"", "\"-1\"", "\"\""];

    public static TheoryData<string, string?, string> MalformedIfMatchOnEveryCommand()
    {
        var data = new TheoryData<string, string?, string>();
        foreach (var (command, body) in Commands) data.Add(command, body, "abc");
        foreach (var ifMatch in MalformedIfMatch.Skip(1)) data.Add(Commands[0].Command, Commands[0].Body, ifMatch);
        data.Add(Commands[3].Command, Commands[3].Body, "W/\"3\"");
        return data;
    }

    private async Task GivenChurnAtRevision4()
    {
        await GivenChurn(versions: 2);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 })).Status);
        Assert.Equal("\"4\"", (await Host.Get("/api/v1/models/churn")).ETag);
    }

    [Theory]
    [MemberData(nameof(MalformedIfMatchOnEveryCommand))]
    public async Task a_malformed_if_match_is_refused_with_400(string command, string? body, string ifMatch)
    {
        await GivenChurnAtRevision4();
        var problem = await Refused(400, command, body, headers: new Dictionary<string, string> { ["If-Match"] = ifMatch });
        Assert.Contains("If-Match", problem["detail"]!.GetValue<string>());
    }

    public static TheoryData<string, string?> EveryCommand()
    {
        var data = new TheoryData<string, string?>();
        foreach (var (command, body) in Commands) data.Add(command, body);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public async Task a_stale_if_match_is_refused_with_412(string command, string? body)
    {
        await GivenChurnAtRevision4();
        var problem = await Refused(412, command, body, headers: new Dictionary<string, string> { ["If-Match"] = "\"3\"" });
        Assert.Contains("revision 4", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task an_if_match_ahead_of_the_model_is_refused_with_412()
    {
        await GivenChurnAtRevision4();
        await Refused(412, Commands[0].Command, Commands[0].Body, headers: new Dictionary<string, string> { ["If-Match"] = "\"5\"" });
    }

    [Theory]
    [InlineData("PATCH /api/v1/models/churn", """{"description":"x"}""")]
    [InlineData("POST /api/v1/models/churn/versions", VersionBody)]
    [InlineData("DELETE /api/v1/models/churn/aliases/champion", null)]
    public async Task an_idempotency_key_over_200_characters_is_refused_with_400(string command, string? body)
    {
        await GivenChurnAtRevision4();
        var problem = await Refused(400, command, body, headers: new Dictionary<string, string> { ["Idempotency-Key"] = new('k', 201) });
        Assert.Contains("Idempotency-Key", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task an_idempotency_key_of_200_characters_is_accepted()
    {
        await GivenChurnAtRevision4();
        var response = await Call(Commands[0].Command, Commands[0].Body, new Dictionary<string, string> { ["Idempotency-Key"] = new('k', 200) });
        Assert.Equal(200, response.Status);
        Assert.Equal("\"5\"", response.ETag);
    }
}
