using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Tests.Workspaces;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>
/// Replays the recorded MLflow client/server exchanges (Transcripts/, see its README) against a fresh workspace, addressed
/// as an MLflow tracking URI names it (<c>/api/v1/workspaces/{ws}</c> + the client's <c>/api/2.0/mlflow/…</c>), with the
/// key as a Bearer token as <c>MLFLOW_TRACKING_TOKEN</c> sends it (as the Basic password, with the recorded user name, where
/// the recording used Basic). A recorded upload sends its recorded bytes; a recorded download must come back with the
/// recorded SHA-256 and length. Each step's status, <c>error_code</c>, field names, JSON
/// types and values must equal the recording's: <c>"&lt;timestamp-ms&gt;"</c> matches any integer; <c>message</c> texts are
/// informative (the README says they are no contract); a <c>tags</c> list is compared as a set (the reference server
/// answers its database's row order, the registry its view's); <c>next_page_token</c> is opaque (README: "opaque to the
/// client"), so it must be a string where one was recorded, and a later step's recorded <c>page_token</c> is replaced by
/// the token the registry answered in its place, as the client sends back what it got. Steps in <see cref="NotYetCovered"/> are sent (the flow's
/// state goes on) but not compared; each names why, and the test fails when one of them starts to match, so the list
/// only shrinks.
/// </summary>
public sealed class when_replaying_mlflow_transcripts(AppFixture app) : WorkspaceTest(app)
{
    private const string DanglingAlias =
        "the reference server keeps an alias on a deleted version (champion → 1); the registry removes a version's aliases with it, " +
        "by decision (docs/mlflow.md, Deleting): an alias never names a version that does not exist";

    /// <summary>(flow, step) → why the registry does not answer it as the reference server yet.</summary>
    public static readonly IReadOnlyDictionary<(string Flow, int Step), string> NotYetCovered = new Dictionary<(string, int), string>
    {
        [("pipeline", 69)] = DanglingAlias,
    };

    [Fact]
    public Task the_pipeline_flow_replays_as_recorded() => Replay("pipeline.jsonl");

    [Fact]
    public Task the_error_flow_replays_as_recorded() => Replay("errors.jsonl");

    /// <summary>Uploads through the artifact proxy, registers the directory, loads it by alias and by number: every file comes back with its recorded SHA-256.</summary>
    [Fact]
    public Task the_load_model_flow_replays_as_recorded() => Replay("load_model.jsonl");

    /// <summary>The recording's Bearer and Basic credentials, with the workspace's key in place of its dummy token and password.</summary>
    [Fact]
    public Task the_auth_flow_replays_as_recorded() => Replay("auth.jsonl");

    private async Task Replay(string file)
    {
        var workspace = await CreateWorkspace();
        var key = await KeyIn(workspace, "admin");
        var differences = new List<string>();
        var nowMatching = new List<string>();
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Mlflow", "Transcripts", file)))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var step = JsonNode.Parse(line)!.AsObject();
            var id = (step["flow"]!.GetValue<string>(), step["step"]!.GetValue<int>());
            var (status, contentType, body) = await Send(workspace, key, step["request"]!.AsObject(), tokens);
            var difference = Compare(step["response"]!.AsObject(), status, contentType, body);
            if (step["response"]!["json"]?["next_page_token"]?.GetValue<string>() is { } recordedToken
                && JsonNode.Parse(Encoding.UTF8.GetString(body))?["next_page_token"]?.GetValue<string>() is { } answeredToken)
                tokens[recordedToken] = answeredToken;
            if (NotYetCovered.ContainsKey(id))
            {
                if (difference is null) nowMatching.Add($"{id.Item1} {id.Item2}");
                continue;
            }
            if (difference is not null) differences.Add($"{id.Item1} step {id.Item2} ({step["call"]}): {difference}");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
        Assert.True(nowMatching.Count == 0, "Now answered as recorded; take them off NotYetCovered: " + string.Join(", ", nowMatching));
    }

    private async Task<(int Status, string ContentType, byte[] Body)> Send(string workspace, string key, JsonObject recorded,
        IReadOnlyDictionary<string, string> tokens)
    {
        string Value(string field, string value) => field == "page_token" && tokens.TryGetValue(value, out var answered) ? answered : value;
        var query = recorded["query"] is JsonObject fields
            ? string.Join("&", fields.SelectMany(f => f.Value!.AsArray().Select(v => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(Value(f.Key, v!.GetValue<string>()))}")))
            : "";
        var url = $"/api/v1/workspaces/{workspace}{recorded["path"]!.GetValue<string>()}{(query.Length > 0 ? "?" + query : "")}";
        using var request = new HttpRequestMessage(new HttpMethod(recorded["method"]!.GetValue<string>()), url);
        if (recorded["json"] is { } json) request.Content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
        if (recorded["body_base64"] is { } bytes)
        {
            // The exact bytes the client uploaded, with its content type.
            request.Content = new ByteArrayContent(Convert.FromBase64String(bytes.GetValue<string>()));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(recorded["headers"]!["content-type"]!.GetValue<string>());
        }
        request.Headers.Authorization = recorded["headers"]?["authorization"]?.GetValue<string>() is { } recordedCredential
                                        && recordedCredential.StartsWith("Basic ", StringComparison.Ordinal)
            // MLFLOW_TRACKING_USERNAME as recorded, the key as MLFLOW_TRACKING_PASSWORD.
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
                Encoding.UTF8.GetString(Convert.FromBase64String(recordedCredential[6..])).Split(':')[0] + ":" + key)))
            : new AuthenticationHeaderValue("Bearer", key);
        using var client = Host.Server.CreateClient();
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>
    /// As <see cref="Compare(JsonObject, int, string, string)"/>; a recorded binary body (<c>body_sha256</c>) must come back
    /// as bytes (not JSON) with that SHA-256 and length.
    /// </summary>
    public static string? Compare(JsonObject recorded, int status, string contentType, byte[] body)
    {
        if (recorded["body_sha256"] is not { } sha256) return Compare(recorded, status, contentType, Encoding.UTF8.GetString(body));
        var expectedStatus = recorded["status"]!.GetValue<int>();
        if (status != expectedStatus) return $"status {status}, recorded {expectedStatus}: {Clip(Encoding.UTF8.GetString(body))}";
        if (contentType == "application/json") return $"a JSON body where the recording has bytes: {Clip(Encoding.UTF8.GetString(body))}";
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
        return actual == sha256.GetValue<string>() && body.Length == recorded["body_length"]!.GetValue<int>()
            ? null
            : $"{body.Length} bytes with SHA-256 {actual}, recorded {recorded["body_length"]} bytes with {sha256}";
    }

    /// <summary>Null when the answer is the recorded one under the rules above; otherwise what differs.</summary>
    public static string? Compare(JsonObject recorded, int status, string contentType, string body)
    {
        var expectedStatus = recorded["status"]!.GetValue<int>();
        if (status != expectedStatus) return $"status {status}, recorded {expectedStatus}: {Clip(body)}";
        if (recorded["json"] is not { } expected)
            return contentType == "application/json" ? $"a JSON body where the recording has none: {Clip(body)}" : null;
        JsonNode? actual;
        try
        {
            actual = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            return $"not JSON: {Clip(body)}";
        }
        return Difference(expected, actual, "$");
    }

    private static string? Difference(JsonNode? expected, JsonNode? actual, string path)
    {
        if (expected is JsonValue e && e.TryGetValue<string>(out var text) && text == "<timestamp-ms>")
            return actual is JsonValue a && a.TryGetValue<long>(out _) ? null : $"{path}: an int64 timestamp expected, got {actual?.ToJsonString() ?? "nothing"}";
        if (expected is null || actual is null)
            return expected is null && actual is null ? null : $"{path}: {actual?.ToJsonString() ?? "nothing"}, recorded {expected?.ToJsonString() ?? "nothing"}";
        if (expected.GetValueKind() != actual.GetValueKind())
            return $"{path}: {actual.GetValueKind()} {Clip(actual.ToJsonString())}, recorded {expected.GetValueKind()} {Clip(expected.ToJsonString())}";
        switch (expected)
        {
            case JsonObject eo:
            {
                var ao = actual.AsObject();
                var missing = eo.Select(p => p.Key).Except(ao.Select(p => p.Key)).ToList();
                var extra = ao.Select(p => p.Key).Except(eo.Select(p => p.Key)).ToList();
                if (missing.Count > 0 || extra.Count > 0) return $"{path}: fields missing [{string.Join(", ", missing)}], extra [{string.Join(", ", extra)}]";
                foreach (var (name, value) in eo)
                {
                    if (name == "message") continue;
                    if (name == "next_page_token")
                    {
                        if (ao[name] is JsonValue token && token.GetValueKind() == System.Text.Json.JsonValueKind.String) continue;
                        return $"{path}.next_page_token: {ao[name]?.ToJsonString() ?? "nothing"}, recorded a token";
                    }
                    if (name == "tags" && value is JsonArray tags)
                    {
                        var want = tags.Select(t => t!.ToJsonString()).Order().ToList();
                        var got = ao[name]!.AsArray().Select(t => t!.ToJsonString()).Order().ToList();
                        if (!want.SequenceEqual(got)) return $"{path}.tags: {ao[name]!.ToJsonString()}, recorded {value.ToJsonString()}";
                        continue;
                    }
                    if (Difference(value, ao[name], $"{path}.{name}") is { } d) return d;
                }
                return null;
            }
            case JsonArray ea:
            {
                var aa = actual.AsArray();
                if (ea.Count != aa.Count) return $"{path}: {aa.Count} items, recorded {ea.Count}: {Clip(aa.ToJsonString())}";
                for (var i = 0; i < ea.Count; i++)
                    if (Difference(ea[i], aa[i], $"{path}[{i}]") is { } d) return d;
                return null;
            }
            default:
                return JsonNode.DeepEquals(expected, actual) ? null : $"{path}: {actual.ToJsonString()}, recorded {expected.ToJsonString()}";
        }
    }

    private static string Clip(string text) => text.Length > 400 ? text[..400] + "…" : text;
}
