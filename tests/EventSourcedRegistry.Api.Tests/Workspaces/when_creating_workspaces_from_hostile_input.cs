using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>Every hostile slug or display name is a 400 or 409 ProblemDetails (never a 500) and appends nothing.</summary>
public sealed class when_creating_workspaces_from_hostile_input(AppFixture app) : WorkspaceTest(app)
{
    /// <summary>JSON string contents (escaped), so the theory's names stay printable.</summary>
    public static TheoryData<string> BadSlugs => new()
    {
        "Team-A", "TEAM", "t\\u00ebam", "team\\u0430", "te\\u0301am", "\\u0000team", "team\\n", "team-a\\n", " team", "team ",
        "a", "", "1team", "-team", "team_a", "team.a", "..", "../default", "a/b", "a%2fb", "a%2Fb", "a\\\\b",
        "~platform", "~default", "*DEFAULT*", "\\ud83d\\ude80", "a" + new string('b', 39), new string('a', 5000),
        "default;drop table x", "team'a",
    };

    [Theory]
    [MemberData(nameof(BadSlugs))]
    public async Task a_slug_outside_the_rules_is_400_and_appends_nothing(string slug)
    {
        var before = await PlatformEvents();

        var response = await Send(HttpMethod.Post, "/api/v1/workspaces", rawBody: $$"""{"slug":"{{slug}}","displayName":"Team"}""");

        response.AssertProblem(400, "slug");
        Assert.Equal(before, await PlatformEvents());
    }

    [Theory]
    [InlineData("{\"displayName\":\"Team\"}", "slug")]
    [InlineData("{\"slug\":null,\"displayName\":\"Team\"}", "slug")]
    [InlineData("{\"slug\":\"team-x\"}", "displayName")]
    [InlineData("{\"slug\":\"team-x\",\"displayName\":\"\"}", "displayName")]
    [InlineData("{\"slug\":\"team-x\",\"displayName\":\"   \"}", "displayName")]
    [InlineData("{\"slug\":\"team-x\",\"displayName\":\" Team\"}", "displayName")]
    [InlineData("{\"slug\":\"team-x\",\"displayName\":\"Te\\u0007am\"}", "displayName")]
    [InlineData("{\"slug\":\"team-x\",\"displayName\":\"Te\\nam\"}", "displayName")]
    [InlineData("null", "body")]
    public async Task a_missing_or_bad_field_is_400_and_appends_nothing(string body, string field)
    {
        var before = await PlatformEvents();

        var response = await Send(HttpMethod.Post, "/api/v1/workspaces", rawBody: body);

        response.AssertProblem(400, field);
        Assert.Equal(before, await PlatformEvents());
    }

    [Fact]
    public async Task a_display_name_over_100_characters_is_400()
    {
        var response = await Post("/api/v1/workspaces", new { slug = NewSlug(), displayName = new string('x', 101) });

        response.AssertProblem(400, "displayName");
    }

    [Fact]
    public async Task default_is_taken_whether_or_not_its_creation_is_recorded()
    {
        var before = await PlatformEvents();

        var response = await Post("/api/v1/workspaces", new { slug = "default", displayName = "Default" });

        response.AssertProblem(409);
        Assert.Equal(before, await PlatformEvents());
    }

    [Fact]
    public async Task a_slug_differing_only_in_case_is_refused_not_created_as_a_second_workspace()
    {
        var slug = await CreateWorkspace();
        var before = await PlatformEvents();

        var response = await Post("/api/v1/workspaces", new { slug = slug.ToUpperInvariant(), displayName = "Twin" });

        response.AssertProblem(400, "slug");
        Assert.Equal(before, await PlatformEvents());
    }

    [Fact]
    public async Task an_archived_workspace_slug_is_never_reused()
    {
        var slug = await CreateWorkspace(displayName: "Old");
        Assert.Equal(200, (await Post($"/api/v1/workspaces/{slug}/archive", new { })).Status);

        var again = await Post("/api/v1/workspaces", new { slug, displayName = "Old" });

        again.AssertProblem(409);
    }
}
