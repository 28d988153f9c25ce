using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_malformed_json(AppFixture app) : BadInputTest(app)
{
    /// <summary>Every endpoint that reads a JSON body.</summary>
    private static readonly string[] BodyEndpoints =
    [
        "POST /api/v1/models",
        "PATCH /api/v1/models/churn",
        "POST /api/v1/models/churn/rename",
        "POST /api/v1/models/churn/versions",
        "PATCH /api/v1/models/churn/versions/1",
        "POST /api/v1/models/churn/versions/1/stage",
        "PUT /api/v1/models/churn/aliases/champion",
        "POST /api/v1/models/churn/deployments",
        "POST /api/v1/models/churn/rollback",
        "POST /api/v1/registry/rollback",
        "POST /api/v1/models/churn/archive",
    ];

    /// <summary>Unreadable on every endpoint: cut short, or an array where an object belongs.</summary>
    private static readonly string[] Unreadable =
    [
        """{"name":"churn", """,
        """[{"name":"churn"}]""",
    ];

    /// <summary>More ways to be unreadable, sent to one endpoint: the JSON reader is shared.</summary>
    private static readonly string[] AlsoUnreadable =
    [
        "{",
        "name=churn",
        "{\"name\":\"churn",
        "\"churn\"",
        "[]",
        "42",
        "true",
        """{"name":"churn"}}""",
        """{'name':'churn'}""",
        """{name:"churn"}""",
        """{"name":"churn",}""",
        "  ",
    ];

    public static TheoryData<string, string> UnreadableBodies()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in BodyEndpoints)
        foreach (var body in Unreadable)
            data.Add(endpoint, body);
        foreach (var body in AlsoUnreadable) data.Add(BodyEndpoints[0], body);
        return data;
    }

    [Theory]
    [MemberData(nameof(UnreadableBodies))]
    public async Task a_body_that_is_not_the_expected_json_object_is_refused_with_400(string endpoint, string body)
    {
        await GivenChurn(versions: 1);
        await Refused(400, endpoint, body);
    }

    public static TheoryData<string, string> BodiesOfAnotherMediaType()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in BodyEndpoints.Take(4)) data.Add(endpoint, "text/plain");
        data.Add(BodyEndpoints[0], "application/x-www-form-urlencoded");
        data.Add(BodyEndpoints[0], "application/xml");
        return data;
    }

    [Theory]
    [MemberData(nameof(BodiesOfAnotherMediaType))]
    public async Task a_body_that_is_not_sent_as_json_is_refused_with_415(string endpoint, string mediaType)
    {
        await GivenChurn(versions: 1);
        var space = endpoint.IndexOf(' ');
        var problem = await Refused(415, async () =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(endpoint[..space]), endpoint[(space + 1)..])
            {
                Content = new StringContent("""{"name":"fraud","newName":"fraud","stage":"Staging","version":1}""", System.Text.Encoding.UTF8, mediaType),
            };
            var response = await Host.Client().SendAsync(request);
            return new RegistryCalls.Response((int)response.StatusCode,
                System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync()), response);
        });
        Assert.Contains("application/json", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("POST /api/v1/models", """{"name":42}""")]
    [InlineData("POST /api/v1/models", """{"name":"churn2","tags":"team"}""")]
    [InlineData("POST /api/v1/models", """{"name":"churn2","tags":{"team":7}}""")]
    [InlineData("POST /api/v1/models", """{"name":"churn2","tags":["team"]}""")]
    [InlineData("PATCH /api/v1/models/churn", """{"setTags":["team"]}""")]
    [InlineData("PATCH /api/v1/models/churn", """{"removeTags":"team"}""")]
    [InlineData("PATCH /api/v1/models/churn", """{"description":{"text":"x"}}""")]
    [InlineData("POST /api/v1/models/churn/rename", """{"newName":7}""")]
    [InlineData("POST /api/v1/models/churn/rename", """{"newName":["churn2"]}""")]
    [InlineData("POST /api/v1/models/churn/versions", """{"artifact":"s3://models/churn.onnx"}""")]
    [InlineData("POST /api/v1/models/churn/versions", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}","sizeBytes":"big"}}""")]
    [InlineData("POST /api/v1/models/churn/versions", """{"artifact":{"uri":"s3://m/x","sha256":64}}""")]
    [InlineData("POST /api/v1/models/churn/versions", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}","sizeBytes":1.5}}""")]
    [InlineData("POST /api/v1/models/churn/versions", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"},"metrics":{"auc":"high"}}""")]
    [InlineData("POST /api/v1/models/churn/versions", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"},"metrics":{"auc":1e999}}""")]
    [InlineData("POST /api/v1/models/churn/versions", $$"""{"artifact":{"uri":"s3://m/x","sha256":"{{A64}}"},"lineage":"run-1"}""")]
    [InlineData("POST /api/v1/models/churn/versions", $$$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{{A64}}}}"},"lineage":{"datasets":{"uri":"s3://d"}}}""")]
    [InlineData("PATCH /api/v1/models/churn/versions/1", """{"setTags":"x"}""")]
    [InlineData("POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging","archiveExisting":"x"}""")]
    [InlineData("POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging","archiveExisting":1}""")]
    [InlineData("POST /api/v1/models/churn/versions/1/stage", """{"stage":3}""")]
    [InlineData("PUT /api/v1/models/churn/aliases/champion", """{"version":"two"}""")]
    [InlineData("PUT /api/v1/models/churn/aliases/champion", """{"version":1.5}""")]
    [InlineData("PUT /api/v1/models/churn/aliases/champion", """{"version":99999999999}""")]
    [InlineData("POST /api/v1/models/churn/deployments", """{"version":"1","environment":"prod","action":"deployed"}x""")]
    [InlineData("POST /api/v1/models/churn/deployments", """{"version":1,"environment":["prod"],"action":"deployed"}""")]
    [InlineData("POST /api/v1/models/churn/rollback", """{"atSequence":"first","reason":"bad release"}""")]
    [InlineData("POST /api/v1/models/churn/rollback", """{"atSequence":1,"reason":"bad release","dryRun":"yes"}""")]
    [InlineData("POST /api/v1/registry/rollback", """{"atSequence":1,"reason":"bad release","models":"churn"}""")]
    [InlineData("POST /api/v1/models/churn/archive", """{"reason":5}""")]
    public async Task a_field_of_the_wrong_type_is_refused_with_400(string endpoint, string body)
    {
        await GivenChurn(versions: 1);
        await Refused(400, endpoint, body);
    }

    /// <summary>Endpoints whose body is required: a JSON null, an empty body or none at all is refused.</summary>
    public static TheoryData<string, string?, string?> MissingBodies()
    {
        var data = new TheoryData<string, string?, string?>();
        foreach (var endpoint in BodyEndpoints.Where(e => !e.EndsWith("/archive", StringComparison.Ordinal)))
            data.Add(endpoint, "null", "body");
        foreach (var endpoint in new[] { BodyEndpoints[0], BodyEndpoints[3] })
        {
            data.Add(endpoint, "", null);
            data.Add(endpoint, null, null);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(MissingBodies))]
    public async Task a_missing_body_is_refused_with_400(string endpoint, string? body, string? errorField)
    {
        await GivenChurn(versions: 1);
        await Refused(400, endpoint, body, errorField);
    }

    [Theory]
    [InlineData("POST /api/v1/models", "{}", "name")]
    [InlineData("POST /api/v1/models", """{"description":"churn predictor","tags":{"team":"growth"}}""", "name")]
    [InlineData("POST /api/v1/models", """{"name":null}""", "name")]
    [InlineData("POST /api/v1/models/churn/rename", "{}", "newName")]
    [InlineData("POST /api/v1/models/churn/rename", """{"reason":"clearer"}""", "newName")]
    [InlineData("POST /api/v1/models/churn/versions", "{}", "artifact")]
    [InlineData("POST /api/v1/models/churn/versions", """{"description":"v2"}""", "artifact")]
    [InlineData("POST /api/v1/models/churn/versions", """{"artifact":{}}""", "artifact.sha256")]
    [InlineData("POST /api/v1/models/churn/versions", $$$"""{"lineage":{"datasets":[{"digest":"x"}]},"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"}}""", "lineage.datasets[0].uri")]
    [InlineData("POST /api/v1/models/churn/versions", $$$"""{"lineage":{"datasets":[null]},"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"}}""", "lineage.datasets[0].uri")]
    [InlineData("POST /api/v1/models/churn/versions/1/stage", "{}", "stage")]
    [InlineData("POST /api/v1/models/churn/versions/1/stage", """{"stage":""}""", "stage")]
    [InlineData("POST /api/v1/models/churn/versions/1/stage", """{"stage":"  ","archiveExisting":true}""", "stage")]
    [InlineData("PUT /api/v1/models/churn/aliases/champion", "{}", "version")]
    [InlineData("PUT /api/v1/models/churn/aliases/champion", """{"reason":"best auc"}""", "version")]
    [InlineData("PUT /api/v1/models/churn/aliases/champion", """{"version":0}""", "version")]
    [InlineData("PUT /api/v1/models/churn/aliases/champion", """{"version":-1}""", "version")]
    [InlineData("POST /api/v1/models/churn/deployments", """{"environment":"prod","action":"deployed"}""", "version")]
    [InlineData("POST /api/v1/models/churn/deployments", """{"version":1,"action":"deployed"}""", "environment")]
    [InlineData("POST /api/v1/models/churn/deployments", """{"version":1,"environment":"prod"}""", "action")]
    [InlineData("POST /api/v1/models/churn/deployments", """{"version":1,"environment":"prod","action":"rolled-out"}""", "action")]
    [InlineData("POST /api/v1/models/churn/deployments", """{"version":1,"environment":"prod/eu","action":"deployed"}""", "environment")]
    [InlineData("POST /api/v1/models/churn/rollback", """{"atSequence":1}""", "reason")]
    [InlineData("POST /api/v1/models/churn/rollback", """{"reason":"bad release"}""", "asOf")]
    [InlineData("POST /api/v1/models/churn/rollback", """{"asOf":"2026-03-03T14:00:00Z","atSequence":1,"reason":"bad release"}""", "asOf")]
    [InlineData("POST /api/v1/models/churn/rollback", """{"asOf":"yesterday","reason":"bad release"}""", "asOf")]
    [InlineData("POST /api/v1/models/churn/rollback", """{"atSequence":-1,"reason":"bad release"}""", "atSequence")]
    [InlineData("POST /api/v1/registry/rollback", """{"atSequence":1}""", "reason")]
    [InlineData("POST /api/v1/registry/rollback", """{"atSequence":1,"reason":"bad release","models":["team/churn"]}""", "models")]
    public async Task a_body_without_a_required_field_is_refused_with_400_naming_it(string endpoint, string body, string field)
    {
        await GivenChurn(versions: 1);
        await Refused(400, endpoint, body, field);
    }
}
