using System.Text.Json.Nodes;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20, keys per workspace: a key belongs to one workspace (its grants hold there only, its name is unique there
/// only, its events are that workspace's), a platform admin's key may hold grants in several, and nothing about a key
/// of one workspace can be learnt or changed from another.
/// </summary>
public sealed class when_keys_belong_to_workspaces(AppFixture app) : WorkspaceTest(app)
{
    private async Task<JsonObject> PlatformKey(object[] grants, string? name = null)
    {
        var made = await Post("/api/v1/platform/keys", new { name = name ?? $"pk-{Guid.NewGuid():N}", owner = $"owner-{Guid.NewGuid():N}", grants });
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return made.Body!.AsObject();
    }

    private async Task<JsonObject> WorkspaceKey(string workspace, string adminKey, string name, params object[] grants)
    {
        var made = await Post($"/api/v1/workspaces/{workspace}/admin/keys", new { name, owner = $"owner-{Guid.NewGuid():N}", grants }, key: adminKey);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return made.Body!.AsObject();
    }

    private async Task<IReadOnlyList<object>> AccessEventsOf(string tenant)
    {
        await using var session = Store.QuerySession(tenant);
        return (await session.Events.FetchStreamAsync(AccessStream.Id)).Select(e => e.Data).ToList();
    }

    [Fact]
    public async Task a_workspaces_admin_made_by_a_platform_admin_makes_keys_that_reach_that_workspace_only()
    {
        var a = await CreateWorkspace();
        var adminOfA = (await PlatformKey([new { role = "admin", workspace = a }]))["key"]!.GetValue<string>();
        var reader = (await WorkspaceKey(a, adminOfA, "ci", new { role = "reader" }))["key"]!.GetValue<string>();

        Assert.Equal(201, (await Post($"/api/v1/workspaces/{a}/models", new { name = "churn" }, key: adminOfA)).Status);
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{a}/models/churn", key: reader)).Status);
        // Default is another workspace: the key is not a member there, so it answers as an unknown route.
        Assert.Equal(Fingerprint(await Get("/api/v1/no-such-route")), Fingerprint(await Get("/api/v1/models", key: reader)));
        Assert.Equal(404, (await Get("/api/v1/models", key: adminOfA)).Status);
        // And the key's events are the workspace's, not default's.
        Assert.Contains(await AccessEventsOf(a), e => e is ApiKeyCreated { Name: "ci" });
        Assert.DoesNotContain(await AccessEventsOf(WorkspaceId.Default.TenantId), e => e is ApiKeyCreated { Name: "ci" });
    }

    [Fact]
    public async Task names_are_unique_per_workspace_so_a_taken_name_elsewhere_tells_nothing()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        var adminOfA = (await PlatformKey([new { role = "admin", workspace = a }]))["key"]!.GetValue<string>();
        var adminOfB = (await PlatformKey([new { role = "admin", workspace = b }]))["key"]!.GetValue<string>();
        var name = $"deployer-{Guid.NewGuid():N}";

        await WorkspaceKey(a, adminOfA, name, new { role = "reader" });
        await WorkspaceKey(b, adminOfB, name, new { role = "reader" });
        var again = await Post($"/api/v1/workspaces/{a}/admin/keys", new { name, owner = "x", grants = new[] { new { role = "reader" } } }, key: adminOfA);

        again.AssertProblem(409);
    }

    [Fact]
    public async Task another_workspaces_key_cannot_be_listed_or_revoked_and_its_revocation_attempt_changes_nothing()
    {
        var a = await CreateWorkspace();
        var adminOfA = (await PlatformKey([new { role = "admin", workspace = a }]))["key"]!.GetValue<string>();
        var keyOfA = await WorkspaceKey(a, adminOfA, "pipeline", new { role = "reader" });
        var id = keyOfA["id"]!.GetValue<string>();
        var defaultEvents = (await AccessEventsOf(WorkspaceId.Default.TenantId)).Count;

        var listed = (await Get("/api/v1/admin/keys")).Body!["items"]!.AsArray();
        var revoke = await Send(HttpMethod.Delete, $"/api/v1/admin/keys/{id}");

        Assert.DoesNotContain(listed, k => k!["id"]!.GetValue<string>() == id);
        revoke.AssertProblem(404);
        // The answer names the id asked for, and is otherwise that of an id no key has.
        Assert.Equal(Fingerprint(await Send(HttpMethod.Delete, "/api/v1/admin/keys/0000000000000000")), Fingerprint(revoke).Replace(id, "0000000000000000"));
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{a}/models", key: keyOfA["key"]!.GetValue<string>())).Status);
        Assert.Equal(defaultEvents, (await AccessEventsOf(WorkspaceId.Default.TenantId)).Count);
    }

    [Fact]
    public async Task a_platform_key_holds_in_each_workspace_what_it_was_granted_there_and_each_admin_sees_only_their_part()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        var auditor = await PlatformKey([new { role = "auditor", workspace = a }, new { role = "reader", workspace = b }]);
        var key = auditor["key"]!.GetValue<string>();
        var adminOfA = (await PlatformKey([new { role = "admin", workspace = a }]))["key"]!.GetValue<string>();

        Assert.Equal(200, (await Get($"/api/v1/workspaces/{a}/audit", key: key)).Status);
        (await Get($"/api/v1/workspaces/{b}/audit", key: key)).AssertProblem(403);
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{b}/models", key: key)).Status);
        Assert.Equal(404, (await Get("/api/v1/models", key: key)).Status);

        var seenInA = (await Get($"/api/v1/workspaces/{a}/admin/keys", key: adminOfA)).Body!["items"]!.AsArray()
            .Single(k => k!["id"]!.GetValue<string>() == auditor["id"]!.GetValue<string>())!;
        Assert.Equal([("auditor", a)], seenInA["grants"]!.AsArray().Select(g => (g!["role"]!.GetValue<string>(), g["workspace"]!.GetValue<string>())));
        Assert.DoesNotContain(b, seenInA.ToJsonString());
        Assert.StartsWith("key:platform/", seenInA["actor"]!.GetValue<string>());
        // A workspace admin cannot revoke a platform key; a platform admin can, and the event is the platform's.
        (await Send(HttpMethod.Delete, $"/api/v1/workspaces/{a}/admin/keys/{auditor["id"]}", key: adminOfA)).AssertProblem(404);
        Assert.Equal(200, (await Send(HttpMethod.Delete, $"/api/v1/platform/keys/{auditor["id"]}")).Status);
        Assert.Contains(await AccessEventsOf(WorkspaceId.Platform.TenantId), e => e is ApiKeyRevoked r && r.KeyId == auditor["id"]!.GetValue<string>());
        Assert.Equal(401, (await Get($"/api/v1/workspaces/{a}/audit", key: key)).Status);
    }

    [Fact]
    public async Task only_a_platform_admin_makes_platform_keys()
    {
        var a = await CreateWorkspace();
        var adminOfA = (await PlatformKey([new { role = "admin", workspace = a }]))["key"]!.GetValue<string>();
        var defaultAdmin = (await Host.CreateKey("admin")).Key;
        var body = new { name = $"x-{Guid.NewGuid():N}", owner = "x", grants = new[] { new { role = "reader", workspace = a } } };
        var before = (await AccessEventsOf(WorkspaceId.Platform.TenantId)).Count;

        var refused = (await Post("/api/v1/platform/keys", body, key: adminOfA)).AssertProblem(403);
        Assert.Contains("platform-admin", refused["detail"]!.GetValue<string>());
        (await Post("/api/v1/platform/keys", body, key: defaultAdmin)).AssertProblem(403);
        (await Post("/api/v1/platform/keys", new { body.name, body.owner, grants = new[] { new { role = "platform-admin" } } }, key: defaultAdmin)).AssertProblem(403);

        Assert.Equal(before, (await AccessEventsOf(WorkspaceId.Platform.TenantId)).Count);
    }

    [Fact]
    public async Task the_operator_verifies_every_workspaces_checkpoints_as_the_platform_admin_and_nobody_else_may()
    {
        var a = await CreateWorkspace();
        var adminOfA = (await PlatformKey([new { role = "admin", workspace = a }]))["key"]!.GetValue<string>();

        var verified = await Get("/api/v1/platform/audit/verify");
        var hostile = await Get("/api/v1/platform/audit/verify?full=maybe");

        Assert.True(verified.Status == 200, $"{verified.Status} {verified.Body}");
        Assert.True(hostile.Status == 400, $"{hostile.Status} {hostile.Body}");
        (await Get("/api/v1/platform/audit/verify", key: adminOfA)).AssertProblem(403);
        (await Get("/api/v1/platform/audit/verify", key: (await Host.CreateKey("auditor")).Key)).AssertProblem(403);
        (await Get("/api/v1/platform/audit/verify", key: null)).AssertProblem(401);
    }

    [Theory]
    [InlineData("""[{"role":"reader"}]""", "grants[0].workspace")]
    [InlineData("""[{"role":"reader","workspace":"no-such-workspace-here"}]""", "grants[0].workspace")]
    [InlineData("""[{"role":"reader","workspace":"~platform"}]""", "grants[0].workspace")]
    [InlineData("""[{"role":"reader","workspace":"Default"}]""", "grants[0].workspace")]
    [InlineData("""[{"role":"reader","workspace":"../default"}]""", "grants[0].workspace")]
    [InlineData("""[{"role":"platform-admin","workspace":"default"}]""", "grants[0]")]
    [InlineData("""[{"role":"admin","workspace":"default","model":"churn"}]""", "grants[0].model")]
    [InlineData("""[{"role":"reader","workspace":"default","model":"no-such-model"}]""", "grants[0].model")]
    [InlineData("""[{"role":"owner","workspace":"default"}]""", "grants[0].role")]
    [InlineData("""[]""", "grants")]
    public async Task a_platform_key_with_a_grant_that_cannot_hold_is_refused_and_nothing_is_stored(string grants, string field)
    {
        var name = $"bad-{Guid.NewGuid():N}";
        var before = (await AccessEventsOf(WorkspaceId.Platform.TenantId)).Count;

        var refused = await Send(HttpMethod.Post, "/api/v1/platform/keys", rawBody: $$"""{"name":"{{name}}","owner":"x","grants":{{grants}}}""");

        refused.AssertProblem(400);
        Assert.True(refused.Body!["errors"]?[field] is not null, $"{field}: {refused.Body}");
        Assert.Equal(before, (await AccessEventsOf(WorkspaceId.Platform.TenantId)).Count);
        Assert.Empty(await App.SqlListOn<string>(App.WorkspacesConnectionString, "select id from registry.api_keys where name = $1", name));
    }

    [Fact]
    public async Task a_token_role_names_its_workspace_and_holds_there_only()
    {
        var a = await CreateWorkspace();
        var token = Support.Access.Token($"svc-{Guid.NewGuid():N}", [$"{a}/reader"]);
        using var client = Host.ClientWithToken(token);

        var inA = await RegistryCalls.Read(await client.GetAsync($"/api/v1/workspaces/{a}/models"));
        var inDefault = await RegistryCalls.Read(await client.GetAsync("/api/v1/models"));

        Assert.Equal(200, inA.Status);
        Assert.Equal(404, inDefault.Status);
    }
}
