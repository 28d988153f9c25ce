using System.Net.Http.Headers;
using System.Text;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Issue 13, item 2(a): client JSON the hash chain's canonical form (or PostgreSQL) cannot keep exactly is refused at
/// the one door every body passes, with a 400 naming the field, and nothing is appended. On main,
/// <c>"metadata": {"x": 1e400}</c> answered 201 and stopped the chain for good; NUL and a member named twice in
/// metadata answered 500.
/// </summary>
public sealed class when_sending_json_the_hash_chain_cannot_keep(AppFixture app) : BadInputTest(app)
{
    private const string Artifact = $$$"""{"uri":"s3://models/churn/model.onnx","sha256":"{{{A64}}}","sizeBytes":1234}""";

    [Fact]
    public async Task a_version_whose_metadata_holds_1e400_is_refused_and_the_chain_keeps_verifying()
    {
        await GivenChurn(versions: 1);

        var problem = await Refused(400, "POST /api/v1/models/churn/versions", Version(""" "metadata":{"x":1e400} """), "metadata.x");

        Assert.Contains("outside the range of an IEEE-754 double", problem["errors"]!["metadata.x"]![0]!.GetValue<string>());
        await Host.RegisterVersion(Churn);
        await Store.WaitForAuditTrail();
        var verdict = await Host.Verify();
        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
        Assert.Equal((await App.Sequences())[^1], verdict["headSequence"]!.GetValue<long>());
    }

    /// <summary>Every kind of client JSON: metadata, params, metrics, lineage, schemas (model and registry), command bodies.</summary>
    public static TheoryData<string, string, string> Unkeepable() => new()
    {
        { "PATCH /api/v1/models/churn/versions/1", """{"metadata":{"nested":[{"x":-1e400}]}}""", "metadata.nested[0].x" },
        { "PATCH /api/v1/models/churn/versions/1", """{"metadata":{"seed":12345678901234567890}}""", "metadata.seed" },
        { "PATCH /api/v1/models/churn/versions/1", """{"metadata":{"tiny":1e-400}}""", "metadata.tiny" },
        { "POST /api/v1/models/churn/versions", Version(""" "metrics":{"auc":1e400} """), "metrics.auc" },
        { "POST /api/v1/models/churn/versions", Version(""" "params":{"lr":"0.1","lr":"0.2"} """), "params.lr" },
        { "POST /api/v1/models/churn/versions", Version(""" "lineage":{"runId":"r\u0000"} """), "lineage.runId" },
        { "POST /api/v1/models/churn/versions", Version(""" "description":"\ud800" """), "description" },
        { "PUT /api/v1/models/churn/metadata-schema", """{"schema":{"type":"object","properties":{"x":{"maximum":1e400}}}}""", "schema.properties.x.maximum" },
        { "PUT /api/v1/registry/metadata-schema", """{"schema":{"type":"object","maxProperties":1e999}}""", "schema.maxProperties" },
        { "POST /api/v1/models", """{"name":"fraud","tags":{"team":"a\u0000"}}""", "tags.team" },
        { "POST /api/v1/models", """{"name":"fraud","name":"other"}""", "name" },
        { "PATCH /api/v1/models/churn", """{"description":"x","description":"y"}""", "description" },
        { "POST /api/v1/models/churn/rename", """{"newName":"fraud","reason":"\udfff"}""", "reason" },
        { "POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging","reason":"a\u0000b"}""", "reason" },
        { "PUT /api/v1/models/churn/aliases/champion", """{"version":1,"version":1}""", "version" },
        { "POST /api/v1/models/churn/deployments", """{"version":1,"environment":"prod","action":"deployed","target":"\ud83d"}""", "target" },
        { "POST /api/v1/models/churn/rollback", """{"atSequence":1e400,"reason":"bad"}""", "atSequence" },
        { "POST /api/v1/registry/rollback", """{"atSequence":1,"reason":"bad","models":["churn","\u0000"]}""", "models[1]" },
        { "POST /api/v1/models/churn/archive", """{"reason":"a\u0000"}""", "reason" },
        { "POST /api/v1/models/churn/restore", """{"reason":1e400}""", "reason" },
        { "DELETE /api/v1/models/churn/aliases/champion", """{"reason":"x","reason":"y"}""", "reason" },
        { "POST /api/v1/admin/keys", """{"name":"ci","roles":["reader"],"name":"x"}""", "name" },
        { "POST /api/v1/audit/checkpoints", """{"x":1e400}""", "x" },
    };

    [Theory]
    [MemberData(nameof(Unkeepable))]
    public async Task json_the_chain_or_the_store_cannot_keep_is_refused_at_its_field(string endpoint, string body, string field)
    {
        await GivenChurn(versions: 1);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, $"/api/v1/models/{Churn}/aliases/champion", new { version = 1 })).Status);

        await Refused(400, endpoint, body, field);
    }

    [Fact]
    public async Task nesting_deeper_than_64_levels_is_refused()
    {
        await GivenChurn(versions: 1);
        var deep = new string('[', 70) + new string(']', 70);

        var problem = await Refused(400, "PATCH /api/v1/models/churn/versions/1", "{\"metadata\":{\"x\":" + deep + "}}");

        var field = Assert.Single(problem["errors"]!.AsObject()).Key;
        Assert.StartsWith("metadata.x[0][0]", field);
        Assert.Contains("nested at most 64 levels", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xFE })]
    public async Task bytes_that_are_not_utf8_are_refused(byte[] bad)
    {
        await GivenChurn(versions: 1);
        var body = Encoding.UTF8.GetBytes("""{"description":"XY"}""").ToList();
        body.RemoveRange(16, 2);
        body.InsertRange(16, bad);

        await Refused(400, () => SendBytes(HttpMethod.Patch, "/api/v1/models/churn", body.ToArray(), "application/json"), "body");
    }

    [Fact]
    public async Task a_body_over_the_json_limit_is_413()
    {
        await GivenChurn(versions: 1);
        var body = Version($"\"description\":\"{new string('x', 1024 * 1024)}\"");

        var problem = await Refused(413, "POST /api/v1/models/churn/versions", body);

        Assert.Contains("MaxJsonBodyBytes", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task json_in_another_charset_is_415()
    {
        await GivenChurn(versions: 1);

        await Refused(415, () => SendBytes(HttpMethod.Patch, "/api/v1/models/churn", Encoding.Unicode.GetBytes("""{"description":"x"}"""),
            "application/json; charset=utf-16"));
    }

    [Fact]
    public async Task an_artifact_is_opaque_bytes_even_when_it_is_json_with_1e400_in_it()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"x":1e400,"y":"\u0000","y":1}""");

        var uploaded = await SendBytes(HttpMethod.Post, "/api/v1/artifacts", bytes, "application/json");

        Assert.Equal(201, uploaded.Status);
        Assert.Equal(TestContent.Sha256(bytes), uploaded.Body!["sha256"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_caller_without_a_role_gets_401_before_the_body_is_read()
    {
        await GivenChurn(versions: 1);

        await Refused(401, () => Host.Send(HttpMethod.Patch, "/api/v1/models/churn", rawBody: """{"metadata":{"x":1e400}}""",
            headers: new Dictionary<string, string> { ["Authorization"] = "ApiKey esr_unknown_key_0123456789abcdef0123456789" }));
    }

    /// <summary>A version body: the external artifact, then <paramref name="members"/>.</summary>
    private static string Version(string members) => "{\"artifact\":" + Artifact + "," + members + "}";

    private async Task<RegistryCalls.Response> SendBytes(HttpMethod method, string url, byte[] body, string contentType)
    {
        using var request = new HttpRequestMessage(method, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return await RegistryCalls.Read(await Host.Client().SendAsync(request));
    }
}
