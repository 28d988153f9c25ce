using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Access;

public sealed class when_authorizing(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_reader_reads_but_its_commands_are_403_and_append_nothing()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        using var reader = await Host.ClientWithRoles("reader");
        var before = await RegistrySnapshot.Take(Host, Store);

        Assert.Equal(200, (await reader.Send(HttpMethod.Get, "/api/v1/models/churn")).Status);
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, "/api/v1/models")).Status);
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, "/api/v1/registry")).Status);
        var problem = (await reader.Send(HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Staging" })).AssertProblem(403);
        Assert.Contains("contributor", problem["detail"]!.GetValue<string>());
        (await reader.Send(HttpMethod.Post, "/api/v1/models", new { name = "fraud" })).AssertProblem(403);
        (await reader.Send(HttpMethod.Patch, "/api/v1/models/churn", new { description = "mine" })).AssertProblem(403);
        (await reader.Send(HttpMethod.Get, "/api/v1/audit")).AssertProblem(403);

        await before.AssertUnchanged(Host, Store);
    }

    [Fact]
    public async Task a_caller_scoped_to_its_model_cannot_rename_it_so_it_cannot_probe_which_names_are_taken()
    {
        // Review of issue 13: a rename to a taken name is 409 whoever holds it, so a scoped contributor could learn of
        // models it may not see. Renaming now needs the role registry-wide, like registering, and the refusal is the
        // same whether the name is taken or free.
        await Host.RegisterModel("alpha");
        await Host.RegisterModel("hidden-beta");
        using var scoped = await Host.ClientWithRoles("contributor:alpha");
        var before = await RegistrySnapshot.Take(Host, Store);

        var taken = (await scoped.Send(HttpMethod.Post, "/api/v1/models/alpha/rename", new { newName = "hidden-beta" })).AssertProblem(403);
        var free = (await scoped.Send(HttpMethod.Post, "/api/v1/models/alpha/rename", new { newName = "nobody-has-this" })).AssertProblem(403);
        Assert.Equal(free.ToJsonString().Replace(free["traceId"]!.ToString(), ""), taken.ToJsonString().Replace(taken["traceId"]!.ToString(), ""));
        Assert.DoesNotContain("hidden-beta", taken.ToJsonString());
        await before.AssertUnchanged(Host, Store);

        // Its other commands on its own model still work, and a registry-wide contributor renames.
        Assert.Equal(200, (await scoped.Send(HttpMethod.Patch, "/api/v1/models/alpha", new { description = "mine" })).Status);
        using var wide = await Host.ClientWithRoles("contributor");
        Assert.Equal(409, (await wide.Send(HttpMethod.Post, "/api/v1/models/alpha/rename", new { newName = "hidden-beta" })).Status);
        Assert.Equal(200, (await wide.Send(HttpMethod.Post, "/api/v1/models/alpha/rename", new { newName = "alpha-2" })).Status);
    }

    [Theory]
    [InlineData("GET", "/api/v1/admin/keys")]
    [InlineData("POST", "/api/v1/admin/keys")]
    [InlineData("DELETE", "/api/v1/admin/keys/0000000000000000")]
    [InlineData("POST", "/api/v1/admin/projections/rebuild")]
    [InlineData("GET", "/api/v1/admin/projections")]
    [InlineData("GET", "/api/v1/admin/projections/rebuilds/00000000-0000-0000-0000-000000000000")]
    [InlineData("GET", "/api/v1/admin/artifacts/orphans")]
    [InlineData("POST", "/api/v1/registry/rollback")]
    [InlineData("GET", "/api/v1/registry/rollbacks/00000000-0000-0000-0000-000000000000")]
    public async Task administration_needs_admin(string method, string path)
    {
        foreach (var role in new[] { "contributor", "approver", "auditor" })
        {
            using var client = await Host.ClientWithRoles(role);
            (await client.Send(new HttpMethod(method), path, method == "POST" ? new { } : null)).AssertProblem(403);
        }
    }

    [Fact]
    public async Task auditing_needs_auditor_or_admin()
    {
        using var auditor = await Host.ClientWithRoles("auditor");
        using var contributor = await Host.ClientWithRoles("contributor");
        Assert.Equal(200, (await auditor.Send(HttpMethod.Get, "/api/v1/audit/verify")).Status);
        Assert.Equal(200, (await auditor.Send(HttpMethod.Get, "/api/v1/models")).Status);
        (await contributor.Send(HttpMethod.Get, "/api/v1/audit/verify")).AssertProblem(403);
        (await auditor.Send(HttpMethod.Post, "/api/v1/models", new { name = "churn" })).AssertProblem(403);
    }

    [Fact]
    public async Task a_model_grant_acts_on_that_model_and_other_models_are_404_as_if_unknown()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        await Host.RegisterVersion("fraud");
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        var fraudBefore = await Store.StreamLength("fraud");

        Assert.Equal(201, (await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions",
            new { artifact = new { uri = "s3://m/churn.onnx", sha256 = RegistryCalls.Sha256A } })).Status);
        Assert.Equal(200, (await pipeline.Send(HttpMethod.Get, "/api/v1/models/churn")).Status);
        Assert.Equal(200, (await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Staging" })).Status);

        var hidden = (await pipeline.Send(HttpMethod.Get, "/api/v1/models/fraud")).AssertProblem(404);
        var unknown = (await Host.Get("/api/v1/models/no-such-model")).AssertProblem(404);
        Assert.Equal(unknown["title"]!.ToString(), hidden["title"]!.ToString());
        Assert.Equal("No model is registered under the name 'fraud'.", hidden["detail"]!.GetValue<string>());
        (await pipeline.Send(HttpMethod.Post, "/api/v1/models/fraud/versions/1/stage", new { stage = "Staging" })).AssertProblem(404);
        (await pipeline.Send(HttpMethod.Get, "/api/v1/models/fraud/history")).AssertProblem(404);
        (await pipeline.Send(HttpMethod.Get, "/api/v1/models/no-such-model")).AssertProblem(404);
        Assert.Equal(fraudBefore, await Store.StreamLength("fraud"));

        // Views across models need the role registry-wide; so does registering a new model.
        (await pipeline.Send(HttpMethod.Get, "/api/v1/models")).AssertProblem(403);
        (await pipeline.Send(HttpMethod.Get, "/api/v1/registry")).AssertProblem(403);
        (await pipeline.Send(HttpMethod.Post, "/api/v1/models", new { name = "new-one" })).AssertProblem(403);
        // Artifacts are shared by every model: a contributor of any model uploads.
        Assert.Equal(201, (await pipeline.Send(HttpMethod.Post, "/api/v1/artifacts", new { some = "bytes" })).Status);
    }

    [Fact]
    public async Task a_model_reader_gets_403_not_404_for_a_command_on_that_model()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        await Host.RegisterVersion("churn");
        using var reader = await Host.ClientWithRoles("reader:churn", "contributor:fraud");
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, "/api/v1/models/churn/versions/1")).Status);
        (await reader.Send(HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Staging" })).AssertProblem(403);
    }

    [Fact]
    public async Task a_403_names_only_grants_that_would_let_the_caller_in()
    {
        // Issue 19: every 403 said "<role>, registry-wide or for this model", so a contributor refused a model's metadata
        // standard was offered "admin ... for this model", a grant that does not exist, and a caller refused the model
        // list was offered a model grant, which never opens a view across models.
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        using var scoped = await Host.ClientWithRoles("reader:churn", "contributor:churn");
        using var approver = await Host.ClientWithRoles("approver:churn");
        var before = await RegistrySnapshot.Take(Host, Store);

        string Detail(System.Text.Json.Nodes.JsonNode problem) => problem["detail"]!.GetValue<string>();
        var needsAdmin = Detail((await scoped.Send(HttpMethod.Put, "/api/v1/models/churn/metadata-schema",
            new { schema = new { type = "object" } })).AssertProblem(403));
        Assert.EndsWith("lacks the role this call needs (admin, registry-wide).", needsAdmin);
        var needsAuditor = Detail((await scoped.Send(HttpMethod.Get, "/api/v1/audit")).AssertProblem(403));
        Assert.EndsWith("(auditor, registry-wide).", needsAuditor);
        var spansModels = Detail((await scoped.Send(HttpMethod.Get, "/api/v1/registry")).AssertProblem(403));
        Assert.EndsWith("(reader, registry-wide).", spansModels);

        // Where a model grant does help, the refusal says so.
        var onTheModel = Detail((await approver.Send(HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Staging" })).AssertProblem(403));
        Assert.EndsWith("(contributor, registry-wide or for this model).", onTheModel);
        var artifacts = Detail((await approver.Send(HttpMethod.Post, "/api/v1/artifacts", new { some = "bytes" })).AssertProblem(403));
        Assert.EndsWith("(contributor, registry-wide or for a model).", artifacts);

        await before.AssertUnchanged(Host, Store);
    }

    [Fact]
    public async Task a_key_grant_follows_its_model_through_a_rename()
    {
        await Host.RegisterModel("churn");
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        await Host.Post("/api/v1/models/churn/rename", new { newName = "churn-v2" }).Ok();

        Assert.Equal(200, (await pipeline.Send(HttpMethod.Get, "/api/v1/models/churn-v2")).Status);
        (await pipeline.Send(HttpMethod.Get, "/api/v1/models/churn")).AssertProblem(404);
    }

    [Fact]
    public async Task a_token_grants_roles_per_model_by_name()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        using var client = Host.ClientWithToken(Support.Access.Token("ci", ["contributor:churn", "reader:fraud"]));
        Assert.Equal(200, (await client.Send(HttpMethod.Patch, "/api/v1/models/CHURN", new { description = "d" })).Status);
        (await client.Send(HttpMethod.Patch, "/api/v1/models/fraud", new { description = "d" })).AssertProblem(403);
        Assert.Equal(200, (await client.Send(HttpMethod.Get, "/api/v1/models/fraud")).Status);
        Assert.Equal("jwt:ci", (await Store.EventsOf("churn")).Last().UserName);
    }

    [Fact]
    public async Task keys_are_created_only_with_known_roles_models_and_a_free_name()
    {
        await Host.RegisterModel("churn");
        var before = (await Host.Get("/api/v1/admin/keys").Ok()).Body!["items"]!.AsArray().Count;

        (await Host.Post("/api/v1/admin/keys", new { name = "x", owner = "x-team", grants = new[] { new { role = "superuser" } } })).AssertProblem(400, "grants[0].role");
        (await Host.Post("/api/v1/admin/keys", new { name = "x", owner = "x-team", grants = new[] { new { role = "admin", model = "churn" } } })).AssertProblem(400, "grants[0].model");
        (await Host.Post("/api/v1/admin/keys", new { name = "x", owner = "x-team", grants = new[] { new { role = "reader", model = "nope" } } })).AssertProblem(400, "grants[0].model");
        (await Host.Post("/api/v1/admin/keys", new { name = "x", owner = "x-team", grants = Array.Empty<object>() })).AssertProblem(400, "grants");
        (await Host.Post("/api/v1/admin/keys", new { name = "has space", owner = "x-team", grants = new[] { new { role = "reader" } } })).AssertProblem(400, "name");
        (await Host.Post("/api/v1/admin/keys", new { name = "bootstrap-admin", owner = "x-team", grants = new[] { new { role = "reader" } } })).AssertProblem(409);

        Assert.Equal(before, (await Host.Get("/api/v1/admin/keys").Ok()).Body!["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task an_admin_key_made_by_an_admin_can_make_keys()
    {
        using var admin = await Host.ClientWithRoles("admin");
        var created = await admin.Send(HttpMethod.Post, "/api/v1/admin/keys", new { name = $"made-{Guid.NewGuid():N}", owner = "made-team", grants = new[] { new { role = "reader" } } });
        Assert.Equal(201, created.Status);
        Assert.StartsWith("key:test-", created.Body!["createdBy"]!.GetValue<string>());
    }
}
