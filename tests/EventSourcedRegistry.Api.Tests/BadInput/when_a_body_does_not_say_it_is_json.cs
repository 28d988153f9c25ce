using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Tests.BadInput;

/// <summary>
/// Regression (security review of issue 13 item 2(a)): the JSON door once checked only bodies labelled
/// <c>application/json</c>, while Wolverine binds a body without a Content-Type (and with <c>application/json;;</c>,
/// or with <c>*/*</c> on an endpoint whose body is optional) as JSON. <c>1e400</c>, <c>9007199254740993</c>,
/// <c>1e-400</c> and duplicate members were stored (201; the answer echoed both duplicates while the version kept the
/// last), and NUL was a 500 (22P05) on every command route. Now every body an endpoint may bind passes the door:
/// without a Content-Type it is checked as JSON, with a type that is not JSON it is 415.
/// </summary>
public sealed class when_a_body_does_not_say_it_is_json(AppFixture app) : BadInputTest(app)
{
    private static string VersionWith(string metadata) =>
        $$$"""{"artifact":{"uri":"s3://b/m.onnx","sha256":"{{{A64}}}"},"metadata":{{{metadata}}}}""";

    public static TheoryData<string> Unkeepable => new()
    {
        """{"x":1e400}""",
        """{"x":9007199254740993}""",
        """{"x":1e-400}""",
        """{"x":1,"x":2}""",
        """{"x":"a\u0000b"}""",
        """{"x":"\ud800"}""",
    };

    [Theory]
    [MemberData(nameof(Unkeepable))]
    public async Task metadata_the_chain_cannot_keep_sent_without_a_content_type_is_refused_with_400(string metadata)
    {
        await GivenChurn(versions: 1);
        await Refused(400, () => Send("POST", "/api/v1/models/churn/versions", VersionWith(metadata), contentType: null), "metadata.x");
    }

    /// <summary>Every command route that reads a JSON body, with a NUL in a string field it reads.</summary>
    public static TheoryData<string, string> NulInAStringField => new()
    {
        { "POST /api/v1/models", """{"name":"fraud","description":"a\u0000b"}""" },
        { "PATCH /api/v1/models/churn", """{"description":"a\u0000b"}""" },
        { "POST /api/v1/models/churn/rename", """{"newName":"churn2","reason":"a\u0000b"}""" },
        { "POST /api/v1/models/churn/versions", VersionWith("""{"x":"a\u0000b"}""") },
        { "PATCH /api/v1/models/churn/versions/1", """{"description":"a\u0000b"}""" },
        { "POST /api/v1/models/churn/versions/1/stage", """{"stage":"Staging","reason":"a\u0000b"}""" },
        { "PUT /api/v1/models/churn/aliases/champion", """{"version":1,"reason":"a\u0000b"}""" },
        { "POST /api/v1/models/churn/deployments", """{"version":1,"environment":"prod","action":"deployed","target":"a\u0000b"}""" },
        { "POST /api/v1/models/churn/archive", """{"reason":"a\u0000b"}""" },
        { "POST /api/v1/models/churn/restore", """{"reason":"a\u0000b"}""" },
        { "POST /api/v1/models/churn/rollback", """{"atSequence":1,"reason":"a\u0000b"}""" },
        { "POST /api/v1/registry/rollback", """{"atSequence":1,"reason":"a\u0000b"}""" },
        { "PUT /api/v1/models/churn/metadata-schema", """{"schema":{"type":"object"},"reason":"a\u0000b"}""" },
        { "PUT /api/v1/registry/metadata-schema", """{"schema":{"type":"object"},"reason":"a\u0000b"}""" },
        { "POST /api/v1/admin/keys", """{"name":"ci","owner":"a\u0000b","grants":[{"role":"reader"}]}""" },
    };

    [Theory]
    [MemberData(nameof(NulInAStringField))]
    public async Task a_nul_in_a_string_field_sent_without_a_content_type_is_refused_with_400_not_500(string call, string body)
    {
        await GivenChurn(versions: 1);
        var space = call.IndexOf(' ');
        await Refused(400, () => Send(call[..space], call[(space + 1)..], body, contentType: null));
    }

    /// <summary>
    /// Types that are not JSON, including the ones Wolverine would still have bound as JSON: a Content-Type
    /// ASP.NET Core cannot parse (<c>application/json;;</c>), and <c>*/*</c> on archive, whose body is optional.
    /// </summary>
    public static TheoryData<string, string> NotJson()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in new[] { "text/plain", "text/json", "*/*", "application/json;;", "application/jsonx", "application/json-seq", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x" })
        {
            data.Add("POST /api/v1/models/churn/versions", type);
            data.Add("POST /api/v1/models/churn/archive", type);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NotJson))]
    public async Task a_body_of_another_type_is_refused_with_415_whatever_the_binder_would_have_read(string call, string contentType)
    {
        await GivenChurn(versions: 1);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 })).Status);
        var space = call.IndexOf(' ');
        var problem = await Refused(415, () => Send(call[..space], call[(space + 1)..],
            """{"reason":"a\u0000b","artifact":{"uri":"s3://b/m.onnx","sha256":"x"},"metadata":{"x":1e400}}""", contentType));
        Assert.Contains("application/json", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_valid_body_without_a_content_type_is_read_as_json_and_kept_exactly()
    {
        await GivenChurn();
        var response = await Send("POST", "/api/v1/models/churn/versions", VersionWith("""{"x":9007199254740992,"y":0.1,"s":"text"}"""), contentType: null);
        Assert.True(response.Status == 201, $"{response.Status} {response.Body}");

        var stored = (await Host.Get("/api/v1/models/churn/versions/1")).Body!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"x":9007199254740992,"y":0.1,"s":"text"}"""), stored["metadata"]), stored.ToJsonString());
        Assert.True(JsonNode.DeepEquals(response.Body!["metadata"], stored["metadata"]));
    }

    [Fact]
    public async Task a_body_declared_as_a_structured_json_type_is_checked_like_application_json()
    {
        await GivenChurn(versions: 1);
        await Refused(400, () => Send("POST", "/api/v1/models/churn/versions", VersionWith("""{"x":1e400}"""), "application/vnd.esr+json"), "metadata.x");
    }

    /// <summary>
    /// The guard behind the door: every Wolverine endpoint but the artifact upload checks the door's mark before it binds
    /// anything, so a pipeline that let a request around the door would fail loudly instead of binding it unchecked.
    /// </summary>
    [Fact]
    public void every_endpoint_but_the_opaque_upload_refuses_to_run_without_the_doors_mark()
    {
        var chains = Host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<HttpChain>()).OfType<HttpChain>().Distinct().ToList();
        Assert.True(chains.Count >= 40, $"only {chains.Count} Wolverine endpoints found");

        static bool Guarded(HttpChain chain) => chain.Middleware.Any(frame => frame.ToString()!.Contains(nameof(CheckedJsonBodyGuard)));
        Assert.Empty(chains.Where(c => !CanonicalJsonInputConfiguration.IsOpaque(c) && !Guarded(c)).Select(c => c.RoutePattern?.RawText));
        // The two artifact uploads: native, and MLflow's proxy.
        Assert.Equal(["/api/2.0/mlflow-artifacts/artifacts/{*path}", "/api/v1/artifacts"],
            chains.Where(CanonicalJsonInputConfiguration.IsOpaque).Select(c => c.RoutePattern!.RawText!).Order(StringComparer.Ordinal));

        var unchecked_ = new DefaultHttpContext();
        Assert.Throws<InvalidOperationException>(() => CheckedJsonBodyGuard.Before(unchecked_));
        var passed = new DefaultHttpContext();
        CheckedJsonBody.Mark(passed);
        CheckedJsonBodyGuard.Before(passed);
    }

    private async Task<RegistryCalls.Response> Send(string method, string url, string body, string? contentType)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        // ByteArrayContent sends no Content-Type unless one is set.
        if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var client = Host.Client();
        return await RegistryCalls.Read(await client.SendAsync(request));
    }
}
