using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Issue 13, item 8: the count of tags, params, metrics and datasets a record carries is capped (Registry:Limits; the
/// defaults here). On main a contributor could put any number into one event, which every later read of the model
/// or version loads.
/// </summary>
public sealed class when_a_record_would_pass_its_caps(AppFixture app) : BadInputTest(app)
{
    private static JsonObject Many(int count, Func<int, JsonNode> value, string prefix = "k") =>
        new(Enumerable.Range(0, count).Select(i => KeyValuePair.Create($"{prefix}{i}", (JsonNode?)value(i))));

    private static string VersionWith(string member, JsonNode value) =>
        new JsonObject
        {
            ["artifact"] = new JsonObject { ["uri"] = "s3://models/churn/model.onnx", ["sha256"] = A64, ["sizeBytes"] = 1234 },
            [member] = value,
        }.ToJsonString();

    private static JsonArray Datasets(int count) =>
        new(Enumerable.Range(0, count).Select(i => (JsonNode?)new JsonObject { ["uri"] = $"s3://data/{i}" }).ToArray());

    public static TheoryData<string, int, string> VersionCaps => new()
    {
        { "tags", 100, "MaxTagsPerVersion" },
        { "params", 1000, "MaxParamsPerVersion" },
        { "metrics", 1000, "MaxMetricsPerVersion" },
        { "lineage", 100, "MaxDatasetsPerVersion" },
    };

    private static JsonNode Payload(string member, int count) => member switch
    {
        "metrics" => Many(count, i => JsonValue.Create(i * 0.5)),
        "lineage" => new JsonObject { ["datasets"] = Datasets(count) },
        _ => Many(count, i => JsonValue.Create($"value-{i}")),
    };

    [Theory]
    [MemberData(nameof(VersionCaps))]
    public async Task a_version_one_past_a_cap_is_400_naming_it_and_appends_nothing(string member, int cap, string setting)
    {
        await GivenChurn();

        var problem = await Refused(400, "POST /api/v1/models/churn/versions", VersionWith(member, Payload(member, cap + 1)),
            errorField: member == "lineage" ? "lineage.datasets" : member);

        Assert.Contains($"Registry:Limits:{setting}", problem.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(VersionCaps))]
    public async Task a_version_at_a_cap_is_registered(string member, int cap, string setting)
    {
        await GivenChurn();

        var response = await Call("POST /api/v1/models/churn/versions", VersionWith(member, Payload(member, cap)));

        Assert.True(response.Status == 201, $"{setting}: {response.Status} {response.Body}");
    }

    [Fact]
    public async Task a_model_registered_with_one_tag_too_many_is_400_and_nothing_is_registered()
    {
        var problem = await Refused(400, "POST /api/v1/models",
            new JsonObject { ["name"] = "churn", ["tags"] = Many(101, i => JsonValue.Create("x")) }.ToJsonString(), errorField: "tags");

        Assert.Contains("Registry:Limits:MaxTagsPerModel", problem.ToJsonString());
        Assert.Equal(0, await Store.TotalEvents());
        Assert.Equal(201, (await Call("POST /api/v1/models",
            new JsonObject { ["name"] = "churn", ["tags"] = Many(100, i => JsonValue.Create("x")) }.ToJsonString())).Status);
    }

    [Fact]
    public async Task an_edit_that_would_leave_a_model_over_its_tag_cap_is_400_and_appends_nothing()
    {
        await Host.RegisterModel(Churn, tags: Many(99, _ => JsonValue.Create("x")));

        var problem = await Refused(400, "PATCH /api/v1/models/churn",
            new JsonObject { ["setTags"] = Many(2, _ => JsonValue.Create("y"), prefix: "new") }.ToJsonString(), errorField: "setTags");

        Assert.Contains("Registry:Limits:MaxTagsPerModel", problem["detail"]!.GetValue<string>());
        // Replacing one tag and adding one fits.
        Assert.Equal(200, (await Call("PATCH /api/v1/models/churn",
            new JsonObject { ["setTags"] = new JsonObject { ["k0"] = "changed", ["new0"] = "y" } }.ToJsonString())).Status);
    }

    [Fact]
    public async Task an_edit_that_would_leave_a_version_over_its_tag_cap_is_400_and_appends_nothing()
    {
        await GivenChurn();
        Assert.Equal(201, (await Call("POST /api/v1/models/churn/versions", VersionWith("tags", Many(100, _ => JsonValue.Create("x"))))).Status);

        var problem = await Refused(400, "PATCH /api/v1/models/churn/versions/1",
            new JsonObject { ["setTags"] = new JsonObject { ["one-more"] = "y" } }.ToJsonString(), errorField: "setTags");

        Assert.Contains("Registry:Limits:MaxTagsPerVersion", problem["detail"]!.GetValue<string>());
        Assert.Equal(200, (await Call("PATCH /api/v1/models/churn/versions/1",
            new JsonObject { ["setTags"] = new JsonObject { ["one-more"] = "y" }, ["removeTags"] = new JsonArray("k0") }.ToJsonString())).Status);
    }
}
