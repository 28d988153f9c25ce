using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

public sealed class when_managing_workspaces(AppFixture app) : WorkspaceTest(app)
{
    [Fact]
    public async Task creating_a_workspace_answers_201_with_its_location_and_the_directory_lists_it()
    {
        var slug = NewSlug();

        var created = await Post("/api/v1/workspaces", new { slug, displayName = "Team A" });

        Assert.Equal(201, created.Status);
        Assert.Equal($"/api/v1/workspaces/{slug}", created.Header("Location"));
        Assert.Equal((slug, "Team A", false), (created.Body!["slug"]!.GetValue<string>(), created.Body["displayName"]!.GetValue<string>(),
            created.Body["archived"]!.GetValue<bool>()));
        var listed = (await Get("/api/v1/workspaces")).Body!["items"]!.AsArray().Select(w => w!["slug"]!.GetValue<string>()).ToList();
        Assert.Contains(slug, listed);
        Assert.Contains("default", listed);
        Assert.Equal("Team A", (await Get($"/api/v1/workspaces/{slug}")).Body!["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_created_workspace_takes_commands_at_once()
    {
        var slug = await CreateWorkspace();

        var registered = await Post($"/api/v1/workspaces/{slug}/models", new { name = "churn" }, workspaces: slug);

        Assert.True(registered.Status == 201, $"{registered.Status} {registered.Body}");
    }

    [Fact]
    public async Task a_retry_of_the_same_creation_answers_200_with_the_workspace_and_appends_nothing()
    {
        var slug = await CreateWorkspace(displayName: "Team A");
        var before = await PlatformEvents();

        var retried = await Post("/api/v1/workspaces", new { slug, displayName = "Team A" });

        Assert.Equal(200, retried.Status);
        Assert.Equal(slug, retried.Body!["slug"]!.GetValue<string>());
        Assert.Equal(before, await PlatformEvents());
    }

    [Fact]
    public async Task another_creation_of_a_taken_slug_is_409_and_appends_nothing()
    {
        var slug = await CreateWorkspace(displayName: "Team A");
        var before = await PlatformEvents();

        var again = await Post("/api/v1/workspaces", new { slug, displayName = "Someone else's team" });

        again.AssertProblem(409);
        Assert.Equal(before, await PlatformEvents());
    }

    [Fact]
    public async Task concurrent_creations_of_one_slug_create_it_once()
    {
        var slug = NewSlug();
        var before = await PlatformEvents();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Post("/api/v1/workspaces", new { slug, displayName = $"Team {i}" })));

        Assert.Single(answers, a => a.Status == 201);
        Assert.All(answers.Where(a => a.Status != 201), a => a.AssertProblem(409));
        Assert.Equal(before + 1, await PlatformEvents());
    }

    [Fact]
    public async Task renaming_changes_the_display_name_and_keeps_the_slug_and_the_data()
    {
        var slug = await CreateWorkspace(displayName: "Team A");
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{slug}/models", new { name = "churn" }, workspaces: slug)).Status);

        var renamed = await Post($"/api/v1/workspaces/{slug}/rename", new { displayName = "Risk", reason = "reorg" });

        Assert.Equal(200, renamed.Status);
        Assert.Equal((slug, "Risk"), (renamed.Body!["slug"]!.GetValue<string>(), renamed.Body["displayName"]!.GetValue<string>()));
        Assert.Equal("Risk", (await Get($"/api/v1/workspaces/{slug}")).Body!["displayName"]!.GetValue<string>());
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{slug}/models/churn", workspaces: slug)).Status);
    }

    [Fact]
    public async Task an_archived_workspace_refuses_commands_and_keeps_its_history_readable()
    {
        var slug = await CreateWorkspace();
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{slug}/models", new { name = "churn" }, workspaces: slug)).Status);

        var archived = await Post($"/api/v1/workspaces/{slug}/archive", new { reason = "team disbanded" });

        Assert.Equal(200, archived.Status);
        Assert.True(archived.Body!["archived"]!.GetValue<bool>());
        var refused = await Post($"/api/v1/workspaces/{slug}/models", new { name = "fraud" }, workspaces: slug);
        var problem = refused.AssertProblem(409);
        Assert.Contains("archived", problem["detail"]!.GetValue<string>());
        Assert.Equal(409, (await Post($"/api/v1/workspaces/{slug}/models/churn/archive", new { }, workspaces: slug)).Status);
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{slug}/models/churn", workspaces: slug)).Status);
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{slug}/models/churn/history", workspaces: slug)).Status);
        Assert.Equal(404, (await Get($"/api/v1/workspaces/{slug}/models/fraud", workspaces: slug)).Status);
        // Archived for good: the name stays, no rename, a second archive changes nothing.
        (await Post($"/api/v1/workspaces/{slug}/rename", new { displayName = "Back again" })).AssertProblem(409);
        var before = await PlatformEvents();
        Assert.Equal(200, (await Post($"/api/v1/workspaces/{slug}/archive", new { })).Status);
        Assert.Equal(before, await PlatformEvents());
    }

    [Fact]
    public async Task a_workspace_admin_is_refused_every_directory_change_with_403_and_nothing_is_appended()
    {
        var slug = await CreateWorkspace();
        var admin = (await Host.CreateKey("admin")).Key;
        var before = await PlatformEvents();

        var create = await Post("/api/v1/workspaces", new { slug = NewSlug(), displayName = "Mine" }, key: admin);
        var rename = await Post($"/api/v1/workspaces/{slug}/rename", new { displayName = "Mine" }, key: admin);
        var archive = await Post($"/api/v1/workspaces/{slug}/archive", new { }, key: admin);

        create.AssertProblem(403);
        rename.AssertProblem(403);
        archive.AssertProblem(403);
        Assert.Equal(before, await PlatformEvents());
    }

    [Fact]
    public async Task a_member_lists_only_its_workspaces_and_another_reads_as_one_that_does_not_exist()
    {
        var mine = await CreateWorkspace();
        var theirs = await CreateWorkspace();
        var reader = await KeyIn(mine, "reader");

        var listed = await Get("/api/v1/workspaces", workspaces: mine, key: reader);
        var notMine = await Get($"/api/v1/workspaces/{theirs}", workspaces: mine, key: reader);
        var missing = await Get($"/api/v1/workspaces/{theirs[..^1]}x", workspaces: mine, key: reader);

        Assert.Equal([mine], listed.Body!["items"]!.AsArray().Select(w => w!["slug"]!.GetValue<string>()));
        notMine.AssertProblem(404);
        Assert.Equal(Fingerprint(missing).Replace($"{theirs[..^1]}x", theirs), Fingerprint(notMine));
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{mine}", workspaces: mine, key: reader)).Status);
    }

    [Fact]
    public async Task a_key_made_before_workspaces_sees_default_only()
    {
        await CreateWorkspace();
        var reader = (await Host.CreateKey("reader")).Key;

        var listed = await Get("/api/v1/workspaces", key: reader);

        Assert.Equal(["default"], listed.Body!["items"]!.AsArray().Select(w => w!["slug"]!.GetValue<string>()));
    }

    [Fact]
    public async Task an_anonymous_caller_gets_401_from_the_directory()
    {
        var slug = await CreateWorkspace();

        (await Get("/api/v1/workspaces", key: null)).AssertProblem(401);
        (await Get($"/api/v1/workspaces/{slug}", key: null)).AssertProblem(401);
        (await Post("/api/v1/workspaces", new { slug = NewSlug(), displayName = "x" }, key: null)).AssertProblem(401);
    }

    [Fact]
    public async Task the_default_workspace_is_listed_and_is_neither_renamed_nor_archived()
    {
        var before = await PlatformEvents();

        var rename = await Post("/api/v1/workspaces/default/rename", new { displayName = "Main" });
        var archive = await Post("/api/v1/workspaces/default/archive", new { });

        rename.AssertProblem(409);
        archive.AssertProblem(409);
        Assert.Equal(before, await PlatformEvents());
        Assert.Equal(200, (await Get("/api/v1/workspaces/default")).Status);
        Assert.Equal(201, (await Post("/api/v1/models", new { name = "churn" })).Status);
    }

    [Fact]
    public async Task renaming_or_archiving_a_workspace_that_does_not_exist_is_404()
    {
        (await Post($"/api/v1/workspaces/{NewSlug()}/rename", new { displayName = "x" })).AssertProblem(404);
        (await Post($"/api/v1/workspaces/{NewSlug()}/archive", new { })).AssertProblem(404);
        (await Post("/api/v1/workspaces/~platform/archive", new { })).AssertProblem(404);
    }
}
