using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Issue 13's acceptance corpus. Every command route (found by enumerating the app's endpoints, as
/// <c>when_enumerating_routes</c> does, so a new route is covered without editing this test) gets every hostile
/// payload. Two groups, each with its own claim:
/// <list type="bullet">
/// <item><b>Refused</b>: JSON the registry cannot keep (numbers past a double, NaN and Infinity, lone surrogates,
/// bytes that are not UTF-8, NUL, duplicate members, deep nesting, oversize bodies, other charsets, malformed JSON),
/// each also sent without a Content-Type (checked as JSON all the same) and as <c>text/plain</c> (415), valid JSON of
/// the wrong shape or with oversize fields and path tricks, and path tricks in the URL. Claim: no 5xx,
/// every answer a 4xx ProblemDetails (the artifact upload takes any bytes and only stores them), <b>0 events
/// appended</b> (the event count and every model's ETag are the same before and after), and the chain still verifies.</item>
/// <item><b>Text in the URL and headers</b>, sent to every route of every method (GETs and DELETEs too): a query value
/// with NUL or percent-encoded bytes that are not UTF-8, an <c>X-Correlation-Id</c> or <c>Idempotency-Key</c> with a
/// control character or an unpaired surrogate. Claim: every one is 400 naming the parameter, no 5xx, 0 events appended.</item>
/// <item><b>Legitimate</b>: awkward but valid data (reasons starting with <c>=</c>, right-to-left and zero-width marks,
/// a BOM, path-like strings, numbers at a double's limits). Claim: accepted, read back exactly, inert in the CSV
/// export, and the chain verifies over every event. This group appends events by design.</item>
/// </list>
/// One shared host; requests are sent in parallel batches.
/// </summary>
public sealed class when_sending_the_hostile_input_corpus(AppFixture app, ITestOutputHelper output) : BadInputTest(app)
{
    private const int Parallelism = 8;

    private const string JsonType = "application/json";

    /// <summary>A body and its Content-Type; null sends none.</summary>
    private sealed record Payload(string Label, byte[] Body, string? ContentType = JsonType);

    private sealed record Route(string Method, string Pattern, bool Opaque, bool ReadsBody)
    {
        /// <summary>MLflow's protocol: refusals are <c>{"error_code","message"}</c> (application/json), not ProblemDetails.</summary>
        // The registry routes and the artifact proxy (/api/2.0/mlflow-artifacts/…) alike.
        public bool IsMlflow => Pattern.StartsWith("/api/2.0/mlflow", StringComparison.Ordinal);

        public override string ToString() => $"{Method} {Pattern}";
    }

    [Fact]
    public async Task every_command_route_refuses_every_hostile_payload_with_no_5xx_and_no_event_and_the_chain_still_verifies()
    {
        await GivenChurn(versions: 1);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, $"/api/v1/models/{Churn}/aliases/champion", new { version = 1 })).Status);
        await Store.WaitForAuditTrail();
        var routes = CommandRoutes();
        var typed = RefusedEverywhere().ToList();
        // The same bodies without a Content-Type (which Wolverine binds as JSON) and as text/plain.
        var untyped = typed.Where(p => p.ContentType == JsonType).Select(p => p with { Label = p.Label + " (no Content-Type)", ContentType = null }).ToList();
        var plain = typed.Where(p => p.ContentType == JsonType).Select(p => p with { Label = p.Label + " (text/plain)", ContentType = "text/plain" }).ToList();
        var generic = typed.Concat(untyped).Concat(plain).ToList();
        var shaped = RefusedByShape().ToList();
        var tricks = UrlTricks.Length;
        var before = await RegistrySnapshot.Take(Host, Store);

        var requests = new List<(Route Route, string Url, Payload Payload)>();
        foreach (var route in routes)
        {
            requests.AddRange(generic.Select(p => (route, Url(route), p)));
            requests.AddRange(shaped.Where(s => s.Route == route.ToString() || (s.Route == "*" && route.ReadsBody)).Select(s => (route, Url(route), s.Payload)));
            if (route.Pattern.Contains('{'))
                requests.AddRange(UrlTricks.Select(t => (route, Url(route, t), Json("url " + t, """{"reason":"a path trick"}"""))));
        }
        var outcomes = await SendAll(requests);
        Report("refused", routes, generic.Count + shaped.Count + tricks, outcomes);
        foreach (var accepted in outcomes.Where(o => !o.Route.Opaque && o.Status is < 400 or >= 500).Take(20)) output.WriteLine("  not refused: " + accepted.Describe());

        await before.AssertUnchanged(Host, Store);
        await Store.WaitForAuditTrail();
        var verdict = (await Host.Get("/api/v1/audit/verify?full=true")).Body!;
        var sequences = await App.Sequences();

        Assert.True(typed.Count + shaped.Count + tricks >= 200, $"only {typed.Count + shaped.Count + tricks} refused payloads");
        Assert.Empty(outcomes.Where(o => o.Status >= 500).Select(o => o.Describe()));
        Assert.Empty(outcomes.Where(o => !o.Route.Opaque && o.Status is < 400 or >= 500).Select(o => o.Describe()));
        Assert.Empty(outcomes.Where(o => !o.Route.Opaque && !o.IsProblem).Select(o => o.Describe()));
        // Everything the JSON door refuses is refused the same way on every route, before any endpoint reads it.
        Assert.Empty(outcomes.Where(o => !o.Route.Opaque && generic.Contains(o.Payload) && o.Status is not (400 or 413 or 415)).Select(o => o.Describe()));
        // MLflow's routes answer in MLflow's error shape, whose code table has no 413 or 415: both are its 400s.
        Assert.Empty(outcomes.Where(o => o.Route.IsMlflow && (o.Status != 400 || o.Body?["error_code"]?.GetValue<string>() is not ("INVALID_PARAMETER_VALUE" or "BAD_REQUEST")))
            .Select(o => o.Describe()));
        // Without a Content-Type a body is checked as JSON (not waved through); declared as another type it is 415.
        Assert.Empty(outcomes.Where(o => !o.Route.Opaque && untyped.Contains(o.Payload) && o.Status is not (400 or 413)).Select(o => o.Describe()));
        Assert.Empty(outcomes.Where(o => !o.Route.Opaque && !o.Route.IsMlflow && plain.Contains(o.Payload) && o.Status != 415).Select(o => o.Describe()));
        Assert.Empty(outcomes.Where(o => o.Route.IsMlflow && !o.Route.Opaque && plain.Contains(o.Payload) && o.Body?["error_code"]?.GetValue<string>() != "BAD_REQUEST").Select(o => o.Describe()));
        // The native upload takes any bytes; the proxy's upload route, sent with its placeholder for a path, is an invalid path (above).
        Assert.Empty(outcomes.Where(o => o.Route.Opaque && !o.Route.IsMlflow && o.Status is not (200 or 201)).Select(o => o.Describe()));
        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
        Assert.Equal((sequences.Count, sequences[^1]), (verdict["events"]!.GetValue<long>(), verdict["headSequence"]!.GetValue<long>()));
    }

    [Fact]
    public async Task every_route_refuses_text_the_store_cannot_keep_in_its_query_or_headers_with_400_naming_it()
    {
        await GivenChurn(versions: 1);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, $"/api/v1/models/{Churn}/aliases/champion", new { version = 1 })).Status);
        await Store.WaitForAuditTrail();
        var routes = Routes(_ => true);
        var before = await RegistrySnapshot.Take(Host, Store);

        var requests = new List<(Route Route, string Url, string Field, (string Name, string Value)? Header)>();
        foreach (var route in routes)
        {
            var url = Url(route);
            var join = url.Contains('?') ? '&' : '?';
            foreach (var parameter in QueryParameters)
            foreach (var value in BadQueryValues)
                requests.Add((route, $"{url}{join}{parameter}={value}", parameter, null));
            foreach (var (name, value) in BadHeaders)
                requests.Add((route, url, name, (name, value)));
        }
        var outcomes = new ConcurrentBag<(string Describe, int Status, bool Named)>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (r, _) =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(r.Route.Method), r.Url);
            if (r.Header is var (name, value)) request.Headers.TryAddWithoutValidation(name, value);
            using var response = await _client.SendAsync(request);
            var read = await RegistryCalls.Read(response);
            // A HEAD answer has no body to name the parameter in; its status says it all.
            var named = r.Route.Method == "HEAD"
                        || (response.Content.Headers.ContentType?.MediaType == "application/problem+json" && read.Body?["errors"]?[r.Field] is JsonArray)
                        // MLflow's error shape has no field list: its message names the parameter.
                        || (r.Route.IsMlflow && read.Body?["error_code"]?.GetValue<string>() == "INVALID_PARAMETER_VALUE"
                            && read.Body?["message"]?.GetValue<string>().Contains($"'{r.Field}'", StringComparison.OrdinalIgnoreCase) == true);
            outcomes.Add(($"{r.Route.Method} {r.Url} [{r.Field}{(r.Header is null ? "" : " = " + Shown(r.Header.Value.Value))}] → {read.Status} {Clip(read.Body?.ToJsonString())}",
                read.Status, named));
        });
        output.WriteLine($"text: {requests.Count} requests over {routes.Count} routes; by status: " +
                         string.Join(", ", outcomes.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} × {g.Count()}")));
        output.WriteLine($"  5xx: {outcomes.Count(o => o.Status >= 500)}");

        await before.AssertUnchanged(Host, Store);
        await Store.WaitForAuditTrail();
        var verdict = (await Host.Get("/api/v1/audit/verify?full=true")).Body!;
        var sequences = await App.Sequences();

        Assert.True(routes.Count >= 45, $"only {routes.Count} routes found");
        Assert.Empty(outcomes.Where(o => o.Status >= 500).Select(o => o.Describe));
        Assert.Empty(outcomes.Where(o => o.Status != 400 || !o.Named).Select(o => o.Describe).Take(20));
        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
        Assert.Equal((sequences.Count, sequences[^1]), (verdict["events"]!.GetValue<long>(), verdict["headSequence"]!.GetValue<long>()));
    }

    [Fact]
    public async Task legitimate_but_awkward_data_is_accepted_read_back_exactly_inert_in_csv_and_chained()
    {
        await GivenChurn(versions: 1);
        var outcomes = new List<Outcome>();
        var route = new Route("POST", "/api/v1/models/{name}/versions", false, true);

        // Versions carrying each awkward string in every free-text place, and the numbers at a double's limits.
        var registered = new List<(int Version, string Text)>();
        foreach (var text in AwkwardStrings)
        {
            var body = new JsonObject
            {
                ["artifact"] = new JsonObject { ["uri"] = "s3://models/churn/model.onnx", ["sha256"] = A64 },
                ["description"] = text,
                ["tags"] = new JsonObject { ["k"] = text },
                ["params"] = new JsonObject { ["p"] = text },
                ["metadata"] = new JsonObject { ["s"] = text, ["list"] = new JsonArray(text, text) },
            }.ToJsonString();
            var outcome = await Send(route, "/api/v1/models/churn/versions", Json("version " + Shown(text), body));
            outcomes.Add(outcome);
            Assert.True(outcome.Status == 201, outcome.Describe());
            registered.Add((outcome.Body!["version"]!.GetValue<int>(), text));
        }
        var edges = await Send(route, "/api/v1/models/churn/versions", Json("numbers at a double's limits", $$$"""
            {"artifact":{"uri":"s3://models/churn/model.onnx","sha256":"{{{A64}}}"},
             "metrics":{"negativeZero":-0,"max":1.7976931348623157e308,"subnormal":5e-324},
             "metadata":{"negativeZero":-0,"max":1.7976931348623157e308,"min":-1.7976931348623157e308,"subnormal":5e-324,
                         "int53":9007199254740992,"e":2.718281828459045,"oneHalf":0.50,"big":1E300,
                         "deep":{{{new string('[', 60)}}}{{{new string(']', 60)}}}}}
            """));
        outcomes.Add(edges);
        Assert.True(edges.Status == 201, edges.Describe());

        // Reasons and correlation ids a spreadsheet would run, on stage moves; a BOM before a body; archive and restore.
        var stage = "Staging";
        foreach (var reason in FormulaStrings)
        {
            var moved = await Send(new Route("POST", "/api/v1/models/{name}/versions/{version}/stage", false, true), "/api/v1/models/churn/versions/1/stage",
                Json("stage reason " + Shown(reason), new JsonObject { ["stage"] = stage, ["reason"] = reason }.ToJsonString()),
                ("X-Correlation-Id", reason.TrimStart('\t', '\r') + "-correlation"));
            outcomes.Add(moved);
            Assert.True(moved.Status == 200, moved.Describe());
            stage = stage == "Staging" ? "None" : "Staging";
        }
        var bom = await Send(new Route("PATCH", "/api/v1/models/{name}", false, true), "/api/v1/models/churn",
            new Payload("UTF-8 BOM before the body", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"description":"\u202eafter a BOM\u200b"}""")]));
        outcomes.Add(bom);
        Assert.True(bom.Status == 200, bom.Describe());
        foreach (var (action, reason) in new[] { ("archive", "=HYPERLINK(\"http://evil.example\")"), ("restore", "@restore -1") })
        {
            var done = await Send(new Route("POST", $"/api/v1/models/{{name}}/{action}", false, true), $"/api/v1/models/churn/{action}",
                Json(action + " reason", new JsonObject { ["reason"] = reason }.ToJsonString()));
            outcomes.Add(done);
            Assert.True(done.Status == 200, done.Describe());
        }
        await Store.WaitForAuditTrail();

        foreach (var (version, text) in registered)
        {
            var read = (await Host.Get($"/api/v1/models/churn/versions/{version}")).Body!;
            Assert.Equal((text, text, text, text, text), (read["description"]!.GetValue<string>(), read["tags"]!["k"]!.GetValue<string>(),
                read["params"]!["p"]!.GetValue<string>(), read["metadata"]!["s"]!.GetValue<string>(), read["metadata"]!["list"]![1]!.GetValue<string>()));
        }
        var limits = (await Host.Get($"/api/v1/models/churn/versions/{edges.Body!["version"]}")).Body!;
        Assert.Equal([0, double.MaxValue, -double.MaxValue, double.Epsilon, 9007199254740992, 2.718281828459045, 0.5, 1e300],
            new[] { "negativeZero", "max", "min", "subnormal", "int53", "e", "oneHalf", "big" }.Select(k => limits["metadata"]![k]!.GetValue<double>()));
        Assert.Equal([0, double.MaxValue, double.Epsilon], new[] { "negativeZero", "max", "subnormal" }.Select(k => limits["metrics"]![k]!.GetValue<double>()));
        Assert.Equal("\u202eafter a BOM\u200b", (await Host.Model(Churn))["description"]!.GetValue<string>());

        var ndjson = (await Export("application/x-ndjson")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        var reasons = ndjson.Where(l => l["eventType"]!.GetValue<string>() == "ModelVersionStageTransitioned").ToList();
        Assert.Equal(FormulaStrings, reasons.Select(l => l["reason"]!.GetValue<string>()));
        Assert.Equal(FormulaStrings.Select(r => r.TrimStart('\t', '\r') + "-correlation"), reasons.Select(l => l["correlationId"]!.GetValue<string>()));
        var csv = await Export("text/csv");
        var cells = Csv.Rows(csv).SelectMany(row => row).ToList();
        Assert.DoesNotContain(cells, c => c.Length > 0 && "=+-@\t\r".Contains(c[0]));
        foreach (var reason in FormulaStrings) Assert.Contains("'" + reason, cells);

        var verdict = (await Host.Get("/api/v1/audit/verify?full=true")).Body!;
        var sequences = await App.Sequences();
        Report("legitimate", outcomes.Select(o => o.Route).Distinct().ToList(), outcomes.Count, outcomes);
        Assert.True(verdict["verified"]!.GetValue<bool>(), verdict.ToJsonString());
        Assert.Equal((sequences.Count, sequences[^1]), (verdict["events"]!.GetValue<long>(), verdict["headSequence"]!.GetValue<long>()));
    }

    // ---- the corpus ----

    /// <summary>Values the hash chain or PostgreSQL cannot keep, as JSON tokens.</summary>
    private static readonly string[] UnkeepableValues =
    [
        "1e309", "1e400", "-1e400", "1.7976931348623159e308", "2e308", "123e456", "1E+400", "1e99999", "-0.5e99999",
        "1e-400", "2e-324", "-1e-99999", "9007199254740993", "12345678901234567890", "3.14159265358979323846",
        "0.1000000000000000055511151231257827",
        "\"\\ud800\"", "\"\\udfff\"", "\"\\ud83d\"", "\"x\\ude00\"", "\"\\ude00\\ud83d\"", "\"a\\u0000b\"", "\"\\u0000\"",
    ];

    /// <summary>Where an unkeepable value is placed: top level, as a reason, in metadata, in tags, deep inside.</summary>
    private static readonly Func<string, string>[] Placements =
    [
        v => $$$"""{"reason":{{{v}}}}""",
        v => $$$"""{"metadata":{"x":{{{v}}}}}""",
        v => $$$"""{"name":"churn2","tags":{"k":{{{v}}}}}""",
        v => $"[{v}]",
        v => $$$"""{"a":{"b":[1,{"c":{{{v}}}}]}}""",
    ];

    /// <summary>Not JSON at all, in ways a lenient parser might accept.</summary>
    private static readonly string[] Malformed =
    [
        """{"x":NaN}""", """{"x":-NaN}""", """{"x":Infinity}""", """{"x":-Infinity}""", """{"x":+1}""", """{"x":01}""", """{"x":.5}""",
        """{"x":1.}""", """{"x":0x10}""", """{"x":1e}""", """{"x":-}""", """{"x":--1}""", """{"x":1e+}""", """{"x":Inf}""",
        """{"a":1,}""", """[1,2,]""", """{"a":1 // comment""" + "\n}", """{"a":/* c */1}""", """{'a':1}""", """{a:1}""", """{"a":""",
        """{"a":"b""", "}{", """{"a":1}{"b":2}""", """{"a":1}x""", "{\"a\":\"tab\there\"}", "{\"a\":\"line\nbreak\"}", """{"a":"\x41"}""",
        """{"a":"\u12"}""", """{"a":"\uZZZZ"}""", """{"a" 1}""", "{,}", "[,]", """{"a":1,,"b":2}""", "\"\\", "  ", "nul", "tru",
    ];

    private static readonly string[] Duplicates =
    [
        """{"reason":"a","reason":"b"}""", """{"a":1,"a":1}""", """{"metadata":{"x":1,"x":1}}""", """{"a":1,"\u0061":2}""",
        """{"tags":{"k":"v","k":"v"}}""", """{"name":"x","Name":"y","name":"z"}""", """{"a":[{"b":1,"b":2}]}""",
        """{"stage":"Staging","stage":"Production"}""", """{"version":1,"version":2}""", """{"artifact":{"sha256":"a","sha256":"b"}}""",
    ];

    private static IEnumerable<Payload> RefusedEverywhere()
    {
        foreach (var value in UnkeepableValues)
            for (var i = 0; i < Placements.Length; i++)
                yield return Json($"unkeepable {value} at placement {i}", Placements[i](value));
        yield return Json("lone surrogate in a member name", """{"\ud800":1}""");
        yield return Json("NUL in a member name", """{"a\u0000":1}""");
        yield return Json("lone surrogate in a metadata member name", """{"metadata":{"\udfff":"x"}}""");
        foreach (var duplicate in Duplicates) yield return Json("duplicate " + duplicate, duplicate);
        foreach (var malformed in Malformed) yield return Json("malformed " + malformed, malformed);

        yield return Json("arrays 65 deep", new string('[', 65) + new string(']', 65));
        yield return Json("arrays 1000 deep", new string('[', 1000) + new string(']', 1000));
        yield return Json("arrays 100000 deep", new string('[', 100_000) + new string(']', 100_000));
        yield return Json("objects 65 deep", string.Concat(Enumerable.Repeat("{\"a\":", 65)) + "1" + new string('}', 65));
        yield return Json("metadata 70 deep", """{"metadata":""" + new string('[', 70) + new string(']', 70) + "}");
        yield return Json("mixed 200 deep", string.Concat(Enumerable.Repeat("[{\"a\":", 100)) + "1" + string.Concat(Enumerable.Repeat("}]", 100)));

        byte[][] invalidUtf8 =
        [
            [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF], [0xFF], [0xFE], [0x80], [0xE2, 0x82],
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x00],
        ];
        foreach (var bytes in invalidUtf8)
            yield return new Payload($"bytes {Convert.ToHexString(bytes)} in a string",
                [.. """{"reason":"x"""u8, .. bytes, .. """y"}"""u8]);
        yield return new Payload("UTF-16LE with its BOM", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("""{"reason":"x"}""")]);
        yield return new Payload("UTF-16BE with its BOM", [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes("""{"reason":"x"}""")]);
        yield return new Payload("UTF-32LE with its BOM", [0xFF, 0xFE, 0x00, 0x00, .. Encoding.UTF32.GetBytes("""{"reason":"x"}""")]);
        yield return new Payload("two UTF-8 BOMs", [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. """{"reason":"x"}"""u8]);
        yield return new Payload("a UTF-8 BOM before garbage", [0xEF, 0xBB, 0xBF, .. "{reason}"u8]);

        var tooLarge = InputOptionsDefaults.MaxJsonBodyBytes + 1024;
        yield return Json("a 1.1 MiB string", $$$"""{"reason":"{{{new string('x', tooLarge)}}}"}""");
        yield return Json("an array of 600,000 zeros", "[" + string.Join(",", Enumerable.Repeat("0", tooLarge / 2 + 1)) + "]");
        yield return Json("an object of 100,000 members", "{" + string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"\"k{i}\":{i}")) + "}");
        yield return Json("metadata of 1.1 MiB", $$$"""{"metadata":{"blob":"{{{new string('m', tooLarge)}}}"}}""");

        yield return new Payload("charset utf-16", Encoding.Unicode.GetBytes("""{"reason":"x"}"""), "application/json; charset=utf-16");
        yield return new Payload("charset iso-8859-1", Encoding.Latin1.GetBytes("""{"reason":"caf\u00e9"}"""), "application/json; charset=iso-8859-1");
        yield return new Payload("charset utf-32", Encoding.UTF32.GetBytes("""{"reason":"x"}"""), "application/json; charset=utf-32");
    }

    /// <summary>
    /// Valid JSON the endpoint that reads it must refuse: wrong types, oversize fields, path tricks in names and digests.
    /// <c>*</c> sends it to every route that reads a body (routes that read none ignore a body, and their URL names nothing).
    /// </summary>
    private static IEnumerable<(string Route, Payload Payload)> RefusedByShape()
    {
        foreach (var body in new[] { "[]", "[{\"name\":\"churn\"}]", "\"churn\"", "42", "true", "false", "-0" })
            yield return ("*", Json("a JSON " + body + " where an object belongs", body));

        const string models = "POST /api/v1/models";
        foreach (var name in new[] { "../etc", "%2e%2e", "sha256:..", "..", "\u202echurn", "a\u200bb", "\u0301churn", new string('x', 129), "churn/../x" })
            yield return (models, Json("model name " + Shown(name), new JsonObject { ["name"] = name }.ToJsonString()));
        yield return (models, Json("model name of the wrong type", """{"name":42}"""));
        yield return (models, Json("model name as an array", """{"name":["x"]}"""));
        yield return (models, Json("a 5001-character description", $$$"""{"name":"fraud","description":"{{{new string('d', 5001)}}}"}"""));
        yield return (models, Json("a 5001-character tag value", $$$"""{"name":"fraud","tags":{"k":"{{{new string('v', 5001)}}}"}}"""));

        const string versions = "POST /api/v1/models/{name}/versions";
        // "sha256:" + 64 hex digits is a digest (issue 19); another algorithm's prefix or a space after the prefix is not.
        foreach (var sha in new[] { "sha256:..", "../../../etc/passwd", "md5:" + A64[..32], "sha256: " + A64, A64[..63] + "g", A64 + "/../x" })
            yield return (versions, Json("artifact sha256 " + Shown(sha), $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{sha}}}"}}"""));
        yield return (versions, Json("a relative artifact uri", $$$"""{"artifact":{"uri":"../../etc/passwd","sha256":"{{{A64}}}"}}"""));
        yield return (versions, Json("a negative size", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}","sizeBytes":-1}}"""));
        yield return (versions, Json("a metric NaN as a string", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"},"metrics":{"auc":"NaN"}}"""));
        yield return (versions, Json("a metric Infinity as a string", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"},"metrics":{"auc":"-Infinity"}}"""));
        yield return (versions, Json("300 KiB of metadata", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"},"metadata":{"m":"{{{new string('m', 300 * 1024)}}}"}}"""));
        yield return (versions, Json("a 257-character run id", $$$"""{"artifact":{"uri":"s3://m/x","sha256":"{{{A64}}}"},"lineage":{"runId":"{{{new string('r', 257)}}}"}}"""));

        yield return ("PATCH /api/v1/models/{name}", Json("a description of the wrong type", """{"description":5}"""));
        yield return ("PATCH /api/v1/models/{name}", Json("setTags as an array", """{"setTags":[]}"""));
        foreach (var name in new[] { "../x", "%2e%2e", "sha256:..", "churn\u202e" })
            yield return ("POST /api/v1/models/{name}/rename", Json("new name " + Shown(name), new JsonObject { ["newName"] = name }.ToJsonString()));
        yield return ("PATCH /api/v1/models/{name}/versions/{version}", Json("300 KiB of metadata", $$$"""{"metadata":{"m":"{{{new string('m', 300 * 1024)}}}"}}"""));
        yield return ("POST /api/v1/models/{name}/versions/{version}/stage", Json("stage ../Production", """{"stage":"../Production"}"""));
        yield return ("POST /api/v1/models/{name}/versions/{version}/stage", Json("a 2001-character reason", $$$"""{"stage":"Staging","reason":"{{{new string('r', 2001)}}}"}"""));
        yield return ("PUT /api/v1/models/{name}/aliases/{alias}", Json("version 1.5", """{"version":1.5}"""));
        yield return ("PUT /api/v1/models/{name}/aliases/{alias}", Json("version 99999999999", """{"version":99999999999}"""));
        yield return ("POST /api/v1/models/{name}/deployments", Json("environment ../prod", """{"version":1,"environment":"../prod","action":"deployed"}"""));
        yield return ("POST /api/v1/models/{name}/deployments", Json("environment with a control character", """{"version":1,"environment":"prod\u0007","action":"deployed"}"""));
        yield return ("POST /api/v1/models/{name}/rollback", Json("asOf ../", """{"asOf":"../","reason":"x"}"""));
        yield return ("POST /api/v1/registry/rollback", Json("models ../churn", """{"atSequence":1,"reason":"x","models":["../churn"]}"""));
        yield return ("PUT /api/v1/models/{name}/metadata-schema", Json("a schema of the wrong type", """{"schema":{"type":5}}"""));
        yield return ("PUT /api/v1/registry/metadata-schema", Json("a schema of an unknown type", """{"schema":{"type":"nonsense"}}"""));
        yield return ("POST /api/v1/admin/keys", Json("an empty key name", """{"name":"","grants":[{"role":"reader"}]}"""));
        yield return ("POST /api/v1/admin/keys", Json("an unknown role", """{"name":"corpus","grants":[{"role":"god"}]}"""));
        yield return ("POST /api/v1/admin/projections/rebuild", Json("projection ../AuditChain", """{"projection":"../AuditChain"}"""));
    }

    /// <summary>
    /// Path segments, as sent (already percent-encoded), that must never name a model, alias, version or key. (A raw
    /// <c>%00</c> never reaches the app: Kestrel refuses a path with NUL, and the test server will not send one.)
    /// </summary>
    private static readonly string[] UrlTricks =
    [
        "..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "sha256:..", "%2e%2e%5c%2e%2e", "churn%2500", "churn%2f..", "%252e%252e",
        "....%2f%2f", "%c0%ae%c0%ae", "%e2%80%aechurn", "%ef%bb%bfchurn", Uri.EscapeDataString(new string('x', 300)),
    ];

    /// <summary>Every query parameter some endpoint reads; the door refuses a bad value of any of them on any route.</summary>
    private static readonly string[] QueryParameters =
    [
        "actor", "model", "type", "from", "to", "cursor", "limit", "prefix", "tag", "stage", "environment", "reason",
        "asOf", "atSequence", "includeArchived", "full", "sequence", "head", "olderThan", "dryRun",
        // The pull feed's.
        "after", "wait", "types",
    ];

    /// <summary>As sent: NUL (alone, inside text, in a tag filter), and percent-encoded bytes that are not UTF-8.</summary>
    private static readonly string[] BadQueryValues = ["%00", "a%00b", "%00:x", "%FF", "%ED%A0%80", "%C0%AF"];

    /// <summary>Headers stored with the events or the idempotency record, with what PostgreSQL or the export cannot take.</summary>
    private static readonly (string Name, string Value)[] BadHeaders =
    [
        ("X-Correlation-Id", "a\u0000b"), ("X-Correlation-Id", "a\u0001b"), ("X-Correlation-Id", "=1+1\u001b"), ("X-Correlation-Id", "\ud800"),
        ("Idempotency-Key", "a\u0000b"), ("Idempotency-Key", "k\tey"), ("Idempotency-Key", "a\udfffb"),
    ];

    /// <summary>Legitimate text that looks dangerous: each is stored and read back exactly.</summary>
    private static readonly string[] FormulaStrings = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "'=quoted"];

    private static readonly string[] AwkwardStrings =
    [
        .. FormulaStrings,
        "\u202egnp.exe", "a\u200bb", "\u200f\u200e", "\u2066isolate\u2069", "\ufeffBOM inside", "e\u0301", "😀𝄞", "\u2028line\u2029sep",
        "../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2f", "sha256:..", "sha256:../../" + A64, "file:///etc/passwd",
        "<script>alert(1)</script>", "'; drop table mt_events; --", "${jndi:ldap://x}", "{{7*7}}", "%00", "\\u0000", "   leading spaces",
        new string('x', 5000),
    ];

    // ---- sending and reporting ----

    private sealed record Outcome(Route Route, string Url, Payload Payload, int Status, bool IsProblem, JsonNode? Body)
    {
        public string Describe() => $"{Route.Method} {Url} [{Payload.Label}] → {Status} {Clip(Body?.ToJsonString())}";
    }

    private async Task<List<Outcome>> SendAll(List<(Route Route, string Url, Payload Payload)> requests)
    {
        var outcomes = new ConcurrentBag<Outcome>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
            async (request, _) => outcomes.Add(await Send(request.Route, request.Url, request.Payload)));
        return outcomes.ToList();
    }

    private readonly HttpClient _client = app.Host.Client();

    private async Task<Outcome> Send(Route route, string url, Payload payload, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(new HttpMethod(route.Method), url) { Content = new ByteArrayContent(payload.Body) };
        if (payload.ContentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(payload.ContentType);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await _client.SendAsync(request);
        var read = await RegistryCalls.Read(response);
        var isProblem = route.IsMlflow
            ? response.Content.Headers.ContentType?.MediaType == "application/json" && read.Body?["error_code"] is JsonValue && read.Body?["message"] is JsonValue
            : response.Content.Headers.ContentType?.MediaType == "application/problem+json";
        return new Outcome(route, url, payload, read.Status, isProblem, read.Body);
    }

    private void Report(string group, IReadOnlyCollection<Route> routes, int payloads, List<Outcome> outcomes)
    {
        output.WriteLine($"{group}: {payloads} payloads, {outcomes.Count} requests over {routes.Count} routes");
        output.WriteLine("  by status: " + string.Join(", ", outcomes.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} × {g.Count()}")));
        output.WriteLine($"  5xx: {outcomes.Count(o => o.Status >= 500)}");
        foreach (var route in routes.OrderBy(r => r.Pattern).ThenBy(r => r.Method))
        {
            var mine = outcomes.Where(o => o.Route == route).ToList();
            output.WriteLine($"  {route,-62} {mine.Count,5} requests: " +
                             string.Join(", ", mine.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} × {g.Count()}")));
        }
    }

    // ---- routes ----

    /// <summary>Every route that changes something (POST, PUT, PATCH, DELETE), from the app's own endpoint table.</summary>
    private List<Route> CommandRoutes()
    {
        var routes = Routes(m => m is "POST" or "PUT" or "PATCH" or "DELETE");
        Assert.True(routes.Count >= 20, $"only {routes.Count} command routes found");
        Assert.Single(routes, r => r.Opaque && !r.IsMlflow);
        Assert.Single(routes, r => r.Opaque && r.IsMlflow);
        return routes;
    }

    /// <summary>Every route of the API (<c>/api/</c>) answering one of these methods, from the app's own endpoint table.</summary>
    private List<Route> Routes(Func<string, bool> methods) =>
        Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
                .Where(methods)
                .Select(m => new Route(m, e.RoutePattern.RawText!, e.Metadata.GetMetadata<OpaqueBodyAttribute>() is not null,
                    e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is not null
                    || e.RoutePattern.RawText!.EndsWith("/archive", StringComparison.Ordinal) || e.RoutePattern.RawText.EndsWith("/restore", StringComparison.Ordinal))))
            .Distinct()
            .OrderBy(r => r.Pattern, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// The route with its parameters filled: the model <c>churn</c> and its version 1; an alias that exists for a PUT
    /// and none for a DELETE; ids that name nothing. Routes that read no body get a URL naming nothing, so a body they
    /// ignore cannot make them act. A route with a parameter this test does not know fails it: add it here.
    /// </summary>
    private static string Url(Route route, string? everyParameter = null) =>
        Regex.Replace(route.Pattern, @"\{(\w+)(:[^}]*)?\}", m => everyParameter ?? m.Groups[1].Value switch
        {
            "name" => Churn,
            "version" => "1",
            "alias" => route.Method == "DELETE" ? "nosuchalias" : "champion",
            "id" => Guid.Empty.ToString(),
            "sequence" => "1",
            "sha256" => A64,
            "ws" => "no-such-workspace",
            var other => throw new InvalidOperationException($"The corpus has no value for {{{other}}} in {route}; add one."),
        });

    // ---- helpers ----

    private static Payload Json(string label, string json) => new(label, Encoding.UTF8.GetBytes(json));

    private async Task<string> Export(string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit");
        request.Headers.Accept.ParseAdd(accept);
        using var response = await _client.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static string Shown(string text) => Clip(string.Concat(text.Select(c => char.IsControl(c) || c > 0x7e ? $"\\u{(int)c:x4}" : c.ToString())));

    private static string Clip(string? text) => text is null ? "" : text.Length > 80 ? text[..80] + "…" : text;

    private static class InputOptionsDefaults
    {
        public static readonly int MaxJsonBodyBytes = new InputOptions().MaxJsonBodyBytes;
    }
}
