using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

public sealed class when_addressing_workspaces(AppFixture app) : WorkspaceTest(app)
{
    [Fact]
    public async Task the_same_model_name_in_two_workspaces_is_two_models()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        var both = $"{a},{b}";

        var inA = await Post($"/api/v1/workspaces/{a}/models", new { name = "churn", description = "A's churn" }, workspaces: both);
        var inB = await Post($"/api/v1/workspaces/{b}/models", new { name = "churn", description = "B's churn" }, workspaces: both);
        await Post($"/api/v1/workspaces/{b}/models/churn/versions",
            new { artifact = new { uri = "s3://b/churn.onnx", sha256 = RegistryCalls.Sha256B, sizeBytes = 1 } }, workspaces: both);

        Assert.Equal((201, 201), (inA.Status, inB.Status));
        Assert.Equal("A's churn", (await Get($"/api/v1/workspaces/{a}/models/churn", workspaces: both)).Body!["description"]!.GetValue<string>());
        Assert.Equal("B's churn", (await Get($"/api/v1/workspaces/{b}/models/churn", workspaces: both)).Body!["description"]!.GetValue<string>());
        Assert.Empty((await Get($"/api/v1/workspaces/{a}/models/churn/versions", workspaces: both)).Body!["items"]!.AsArray());
        Assert.Single((await Get($"/api/v1/workspaces/{b}/models/churn/versions", workspaces: both)).Body!["items"]!.AsArray());
        Assert.Single((await Get($"/api/v1/workspaces/{a}/models", workspaces: both)).Body!["items"]!.AsArray());
        // Neither is default's.
        Assert.Equal(404, (await Get("/api/v1/models/churn")).Status);
    }

    [Fact]
    public async Task unprefixed_routes_are_the_default_workspace()
    {
        Assert.Equal(201, (await Post("/api/v1/models", new { name = "churn", description = "default's" })).Status);

        var unprefixed = await Get("/api/v1/models/churn");
        var prefixed = await Get("/api/v1/workspaces/default/models/churn");

        Assert.Equal(200, prefixed.Status);
        Assert.Equal(unprefixed.Body!.ToJsonString(), prefixed.Body!.ToJsonString());
        Assert.Equal(unprefixed.ETag, prefixed.ETag);
        Assert.Equal((await Get("/api/v1/models")).Body!.ToJsonString(), (await Get("/api/v1/workspaces/default/models")).Body!.ToJsonString());
    }

    [Fact]
    public async Task location_headers_carry_the_prefix_the_request_came_through()
    {
        var a = await CreateWorkspace();

        var model = await Post($"/api/v1/workspaces/{a}/models", new { name = "churn" }, workspaces: a);
        var version = await Post($"/api/v1/workspaces/{a}/models/churn/versions",
            new { artifact = new { uri = "s3://a/churn.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } }, workspaces: a);
        var inDefault = await Post("/api/v1/workspaces/default/models", new { name = "fraud" });
        var unprefixed = await Post("/api/v1/models", new { name = "risk" });

        Assert.Equal($"/api/v1/workspaces/{a}/models/churn", model.Header("Location"));
        Assert.Equal($"/api/v1/workspaces/{a}/models/churn/versions/1", version.Header("Location"));
        Assert.Equal("/api/v1/workspaces/default/models/fraud", inDefault.Header("Location"));
        Assert.Equal("/api/v1/models/risk", unprefixed.Header("Location"));
        Assert.Equal(200, (await Get(model.Header("Location")!, workspaces: a)).Status);
    }

    [Fact]
    public async Task links_in_bodies_carry_the_prefix_the_request_came_through()
    {
        var a = await CreateWorkspace();
        using var content = new ByteArrayContent("model bytes"u8.ToArray());
        using var upload = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/workspaces/{a}/artifacts") { Content = content };
        upload.Headers.Add(AppFixture.WorkspacesHeader, a);
        content.Headers.ContentType = new("application/octet-stream");
        using var client = Host.Client();
        var uploaded = await RegistryCalls.Read(await client.SendAsync(upload));
        Assert.True(uploaded.Status is 200 or 201, $"{uploaded.Status} {uploaded.Body}");
        var sha256 = uploaded.Body!["sha256"]!.GetValue<string>();
        await Post($"/api/v1/workspaces/{a}/models", new { name = "churn" }, workspaces: a);
        await Post($"/api/v1/workspaces/{a}/models/churn/versions", new { artifact = new { sha256 } }, workspaces: a);

        var version = await Get($"/api/v1/workspaces/{a}/models/churn/versions/1", workspaces: a);

        Assert.Equal($"/api/v1/workspaces/{a}/artifacts/{sha256}", uploaded.Body!["uri"]!.GetValue<string>());
        Assert.Equal($"/api/v1/workspaces/{a}/artifacts/{sha256}", version.Body!["downloadUrl"]!.GetValue<string>());
    }

    [Fact]
    public async Task an_unknown_workspace_and_one_the_caller_is_not_a_member_of_answer_exactly_like_an_unknown_route()
    {
        var mine = await CreateWorkspace();
        var theirs = await CreateWorkspace();
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{theirs}/models", new { name = "churn" }, workspaces: theirs)).Status);
        var unknown = NewSlug();

        var answers = new Dictionary<string, RegistryCalls.Response>
        {
            ["no such route"] = await Get("/api/v1/no-such-route", workspaces: mine),
            ["no such route in my workspace"] = await Get($"/api/v1/workspaces/{mine}/no-such-route", workspaces: mine),
            ["unknown workspace"] = await Get($"/api/v1/workspaces/{unknown}/models/churn", workspaces: mine),
            ["unknown workspace I am said to be a member of"] = await Get($"/api/v1/workspaces/{unknown}/models/churn", workspaces: unknown),
            ["not a member"] = await Get($"/api/v1/workspaces/{theirs}/models/churn", workspaces: mine),
            ["not a member, list"] = await Get($"/api/v1/workspaces/{theirs}/models", workspaces: mine),
            ["not a member, command"] = await Post($"/api/v1/workspaces/{theirs}/models", new { name = "x" }, workspaces: mine),
            ["default, not a member"] = await Get("/api/v1/models", workspaces: mine),
            ["no slug"] = await Get("/api/v1/workspaces/Team-A/models", workspaces: mine),
            ["the platform"] = await Get("/api/v1/workspaces/~platform/models", workspaces: mine),
            ["an encoded slash"] = await Get("/api/v1/workspaces/a%2Fb/models", workspaces: mine),
        };

        var expected = Fingerprint(answers["no such route"]);
        Assert.StartsWith("404\n", expected);
        Assert.All(answers, answer => Assert.True(Fingerprint(answer.Value) == expected,
            $"{answer.Key}:\n{Fingerprint(answer.Value)}\n--- differs from an unknown route's:\n{expected}"));
    }

    [Fact]
    public async Task an_anonymous_caller_gets_401_whether_or_not_the_workspace_exists()
    {
        var known = await CreateWorkspace();

        var existing = await Get($"/api/v1/workspaces/{known}/models", key: null);
        var unknown = await Get($"/api/v1/workspaces/{NewSlug()}/models", key: null);

        existing.AssertProblem(401);
        Assert.Equal(Fingerprint(existing), Fingerprint(unknown));
    }

    [Fact]
    public async Task a_member_of_one_workspace_cannot_write_another_and_nothing_is_appended_there()
    {
        var mine = await CreateWorkspace();
        var theirs = await CreateWorkspace();
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{theirs}/models", new { name = "churn" }, workspaces: theirs)).Status);
        var contributor = (await Host.CreateKey("contributor")).Key;

        var refused = await Post($"/api/v1/workspaces/{theirs}/models/churn/archive", new { }, workspaces: mine, key: contributor);

        Assert.Equal(404, refused.Status);
        Assert.False((await Get($"/api/v1/workspaces/{theirs}/models/churn", workspaces: theirs)).Body!["archived"]!.GetValue<bool>());
    }
}
