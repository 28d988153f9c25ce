using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Regression (security review of issue 13 item 2(a)): the door accepted a body nested 64 deep, the limit every
/// reader of it also had, so a version's metadata nested 61 levels was stored (201) and then every read that wraps it
/// failed for good: <c>GET …/history</c> answered 400 "Malformed JSON … at $.Items.Data.Metadata" (a GET blamed on a
/// request body it did not have), and from 63 levels <c>GET …/versions</c> too. Now every reader and writer of stored
/// JSON (responses, Marten, the hash chain, the client) allows <see cref="CanonicalInput.StoredMaxDepth"/>, and a JSON
/// fault in reading the store or writing a response is a 500 of ours, never the caller's 400.
/// </summary>
public sealed class when_storing_json_at_the_deepest_nesting_accepted(AppFixture app) : BadInputTest(app)
{
    private const string Deep = "deep";

    /// <summary>The deepest value a body can carry one level down (<c>{"metadata": value}</c>): the door's limit less one.</summary>
    private const int DeepestMember = CanonicalInput.MaxDepth - 1;

    [Fact]
    public async Task metadata_at_the_deepest_nesting_the_door_accepts_is_read_back_through_every_view_the_export_and_the_chain()
    {
        await Host.RegisterModel(Deep);
        var metadata = Nested(DeepestMember, "registered");
        var registered = await Call($"POST /api/v1/models/{Deep}/versions", VersionWith(metadata), Idempotency("deep-1"));
        Assert.True(registered.Status == 201, $"{registered.Status} {registered.Body}");
        // One level deeper is the door's 400: the value above is the deepest a client can store.
        await Refused(400, $"POST /api/v1/models/{Deep}/versions", VersionWith(Nested(DeepestMember + 1, "too deep")));

        var replayed = await Call($"POST /api/v1/models/{Deep}/versions", VersionWith(metadata), Idempotency("deep-1"));
        Assert.True(replayed.Status == 201, $"{replayed.Status} {replayed.Body}");
        Assert.True(JsonNode.DeepEquals(registered.Body, replayed.Body));

        var registeredAt = await App.LastSequence();
        var edited = Nested(DeepestMember, "edited");
        Assert.Equal(200, (await Call($"PATCH /api/v1/models/{Deep}/versions/1", $$"""{"metadata":{{edited}}}""")).Status);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, $"/api/v1/models/{Deep}/aliases/champion", new { version = 1 })).Status);
        Assert.Equal(200, (await Host.Promote(Deep, 1, "Staging")).Status);
        await Store.WaitForAuditTrail();
        await App.WaitForHighWaterMark();

        var expectedNow = JsonNode.Parse(edited);
        var expectedThen = JsonNode.Parse(metadata);
        AssertMetadata(expectedThen, registered.Body!["metadata"]);
        AssertMetadata(expectedNow, (await Read($"/api/v1/models/{Deep}/versions/1"))["metadata"]);
        AssertMetadata(expectedNow, (await Read($"/api/v1/models/{Deep}/versions"))["items"]![0]!["metadata"]);
        AssertMetadata(expectedNow, (await Read($"/api/v1/models/{Deep}/aliases/champion"))["metadata"]);
        AssertMetadata(expectedThen, (await Read($"/api/v1/models/{Deep}/versions/1?atSequence={registeredAt}"))["metadata"]);
        AssertMetadata(expectedThen, (await Read($"/api/v1/models/{Deep}/versions?atSequence={registeredAt}"))["items"]![0]!["metadata"]);
        AssertMetadata(expectedThen, (await Read($"/api/v1/models/{Deep}/aliases/v1?atSequence={registeredAt}"))["metadata"]);
        await Read($"/api/v1/models/{Deep}?atSequence={registeredAt}");

        var history = (await Read($"/api/v1/models/{Deep}/history"))["items"]!.AsArray();
        AssertMetadata(expectedThen, history.Single(e => e!["type"]!.GetValue<string>() == "ModelVersionRegistered")!["data"]!["metadata"]);
        AssertMetadata(expectedNow, history.Single(e => e!["type"]!.GetValue<string>() == "ModelVersionMetadataEdited")!["data"]!["metadata"]);
        await Read("/api/v1/registry/changes");
        await Read("/api/v1/audit");

        var ndjson = await Export("application/x-ndjson");
        Assert.Contains(ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("ModelVersionMetadataEdited", StringComparison.Ordinal));
        Assert.Contains("ModelVersionMetadataEdited", await Export("text/csv"));

        var verdict = await Read("/api/v1/audit/verify?full=true");
        var sequences = await App.Sequences();
        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
        Assert.Equal((sequences.Count, sequences[^1]), (verdict["events"]!.GetValue<long>(), verdict["headSequence"]!.GetValue<long>()));
    }

    /// <summary>
    /// A model's and the registry's metadata schema at the deepest nesting: the model view, the model list (one more
    /// wrapper) and the history serve it, and a version registered under it is checked against it.
    /// </summary>
    [Fact]
    public async Task a_metadata_schema_at_the_deepest_nesting_the_door_accepts_is_read_back_through_every_view()
    {
        await Host.RegisterModel(Deep);
        // "not" of "not" … of {}: an even number of negations, so every metadata satisfies it.
        var schema = DoubleNegation(DeepestMember);
        Assert.Equal(200, (await Call($"PUT /api/v1/models/{Deep}/metadata-schema", $$"""{"schema":{{schema}}}""")).Status);
        Assert.Equal(200, (await Call("PUT /api/v1/registry/metadata-schema", $$"""{"schema":{{schema}}}""")).Status);
        await Host.RegisterVersion(Deep);
        await Store.WaitForAuditTrail();

        var expected = JsonNode.Parse(schema);
        AssertMetadata(expected, (await Read($"/api/v1/models/{Deep}"))["metadataSchema"]);
        AssertMetadata(expected, (await Read("/api/v1/models"))["items"]![0]!["metadataSchema"]);
        AssertMetadata(expected, (await Read($"/api/v1/models/{Deep}/metadata-schema"))["schema"]);
        AssertMetadata(expected, (await Read("/api/v1/registry/metadata-schema"))["schema"]);
        var history = (await Read($"/api/v1/models/{Deep}/history"))["items"]!.AsArray();
        AssertMetadata(expected, history.Single(e => e!["type"]!.GetValue<string>() == "ModelMetadataSchemaSet")!["data"]!["schema"]);
        await Read("/api/v1/registry");

        var verdict = await Read("/api/v1/audit/verify?full=true");
        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
    }

    /// <summary>
    /// JSON the registry cannot read from its own store (here a document nested past every limit, as only a write
    /// around the API could leave it) is a fault of ours: 500, logged; never the caller's 400 "not valid JSON".
    /// </summary>
    [Fact]
    public async Task stored_json_the_registry_cannot_read_is_a_500_fault_not_the_callers_400()
    {
        await GivenChurn(versions: 1);
        var tooDeep = new string('[', CanonicalInput.StoredMaxDepth + 10) + new string(']', CanonicalInput.StoredMaxDepth + 10);
        Assert.Equal(1, await App.Sql("update registry.mt_doc_modelversionview set data = jsonb_set(data, '{metadata}', $1::jsonb)", tooDeep));

        var read = await Host.Get("/api/v1/models/churn/versions/1");
        var problem = read.AssertProblem(500);
        Assert.DoesNotContain("JSON", problem["title"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("request body", problem["detail"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><paramref name="depth"/> levels of objects and arrays in turn, a string at the bottom.</summary>
    private static string Nested(int depth, string leaf)
    {
        var text = new StringBuilder();
        for (var level = 1; level <= depth; level++) text.Append(level % 2 == 1 ? $"{{\"level{level}\":" : "[");
        text.Append('"').Append(leaf).Append('"');
        for (var level = depth; level >= 1; level--) text.Append(level % 2 == 1 ? "}" : "]");
        return text.ToString();
    }

    private static string DoubleNegation(int depth)
    {
        Assert.True(depth % 2 == 1, "an even number of negations around the innermost {}");
        return string.Concat(Enumerable.Repeat("{\"not\":", depth - 1)) + "{}" + new string('}', depth - 1);
    }

    private static string VersionWith(string metadata) =>
        $$$"""{"artifact":{"uri":"s3://models/deep/model.onnx","sha256":"{{{A64}}}"},"metadata":{{{metadata}}}}""";

    private static Dictionary<string, string> Idempotency(string key) => new() { ["Idempotency-Key"] = key };

    private static void AssertMetadata(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {Clip(expected)}, read {Clip(actual)}");

    private static string Clip(JsonNode? node)
    {
        var text = node?.ToJsonString(new System.Text.Json.JsonSerializerOptions { MaxDepth = CanonicalInput.StoredMaxDepth }) ?? "null";
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    private async Task<JsonNode> Read(string url)
    {
        var response = await Host.Get(url);
        Assert.True(response.Status == 200, $"GET {url}: {response.Status} {response.Body?.ToJsonString()}");
        return response.Body!;
    }

    private async Task<string> Export(string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit");
        request.Headers.Accept.ParseAdd(accept);
        using var client = Host.Client();
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 200, $"export as {accept}: {(int)response.StatusCode} {text}");
        return text;
    }
}
